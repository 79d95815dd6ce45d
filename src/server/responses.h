// OpenAI's Responses API (POST /v1/responses) on top of chat completions: a request is
// translated into a chat request (instructions become the system message, input items the
// messages), generated as a chat stream, and the stream's chunks are translated back into
// a Response object or the Responses event stream (response.created, ...
// response.output_text.delta, ... response.completed). Responses are not stored, as in
// vLLM without its store: `store` is accepted and reported false; previous_response_id,
// background runs and built-in tools are 400s.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "server/http_types.h"
#include "server/openai_protocol.h"

namespace lantern::server {

struct ResponsesRequest {
  ChatRequest chat;  // stream is forced on (see MakeResponsesWriter), usage included
  bool stream = false;
  // Request fields a Response object repeats back (instructions, temperature, ...).
  nlohmann::json echoed = nlohmann::json::object();
};

// ApiError(400) naming the field on the first problem found.
ResponsesRequest ParseResponsesRequest(const std::string& body,
                                       const engine::SamplingParams& defaults = {});

struct ResponsesInfo {
  std::string id;     // "resp_..."
  std::string model;  // the served name reported back
  int64_t created_at = 0;
  bool stream = false;
  nlohmann::json echoed;
};

// A writer the chat generation writes its SSE chunks to; it answers `inner` in the
// Responses API's shape (one JSON body, or the Responses events when `info.stream`).
std::shared_ptr<ResponseWriter> MakeResponsesWriter(std::shared_ptr<ResponseWriter> inner,
                                                    ResponsesInfo info);

}  // namespace lantern::server
