// The request fields that /v1/completions and /v1/chat/completions share: sampling
// parameters, streaming options, and the extra fields OpenAI and vLLM clients send, each
// accepted, ignored as harmless, or rejected with a 400 saying it is not supported.
// Internal to the request parsing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/json_fields.h"
#include "server/openai_protocol.h"

namespace lantern::server {

// The most logprobs a request may ask for (vLLM's --max-logprobs, 20 by default). Set once
// at start-up, before requests are served.
int MaxLogprobs();
void SetMaxLogprobs(int limit);

// Token ids in [0, int32 max], each error naming "param[i]".
std::vector<int32_t> TokenIdList(const nlohmann::json& value, const std::string& param);

// Reads every shared field of `f` into `out` (max_tokens excepted: its name differs).
// `body`, the request's text, gives a JSON schema's keys in the client's order.
void ReadGenerationFields(FieldReader& f, GenerationFields& out,
                          const std::string* body = nullptr);

// `name` ("max_tokens" or "max_completion_tokens") into out.params.max_tokens when set.
void ReadMaxTokens(FieldReader& f, GenerationFields& out, const char* name);

}  // namespace lantern::server
