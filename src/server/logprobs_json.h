// Logprobs in the OpenAI API's shapes (and vLLM's `prompt_logprobs`), built from the
// engine's per-position logprobs. Internal to the server.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/request.h"

namespace lantern::server {

// How a token is named in logprobs: its text, or "token_id:<id>" when asked.
using TokenNamer = std::function<std::string(int32_t)>;

// -inf cannot travel in JSON; vLLM reports it as -9999.0.
double SafeLogprob(float logprob);

// Chat: {"content": [{token, logprob, bytes, top_logprobs}, ...]}.
nlohmann::json ChatLogprobs(const std::vector<engine::PositionLogprobs>& positions,
                            const TokenNamer& name);

// Completions: {tokens, token_logprobs, top_logprobs, text_offset}, top_logprobs holding the
// top-N and the sampled token (as OpenAI and vLLM); offsets start at
// `first_offset` and advance by each token's text. With `first_unscored` (an echoed prompt)
// the first position has null logprob and null top_logprobs.
nlohmann::json CompletionLogprobs(const std::vector<engine::PositionLogprobs>& positions,
                                  const TokenNamer& name, size_t first_offset,
                                  bool first_unscored = false);

// vLLM's prompt_logprobs: null for the first token, then per position a map from token id
// to {logprob, rank, decoded_token} with the actual token and the top-N.
nlohmann::json PromptLogprobs(const std::vector<engine::PositionLogprobs>& positions,
                              const TokenNamer& name);

// Appends each array of `more` to the same key of `into` (null `into` becomes `more`).
void AppendLogprobs(nlohmann::json& into, const nlohmann::json& more);

}  // namespace lantern::server
