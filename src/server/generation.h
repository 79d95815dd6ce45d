// One generation request of the OpenAI API in flight: submits its engine requests, gathers
// their outputs on I/O threads and answers with one JSON body or an SSE stream shaped as
// OpenAI's (completion or chat chunks, usage, `data: [DONE]`). Internal to the server.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "server/http_types.h"
#include "server/openai_service.h"
#include "toolcall/tool_parser.h"

namespace lantern::server {

struct OpenAiService::Context {
  ServiceOptions options;
  engine::Engine* engine = nullptr;
  TextCodec codec;
  MetricsRegistry* registry = nullptr;
  ServingMetrics* metrics = nullptr;
  std::function<void(std::function<void()>)> post_to_io;
  std::shared_ptr<std::atomic<size_t>> in_flight;
};

struct GenerationPlan {
  bool chat = false;
  std::string id;     // "cmpl-..." or "chatcmpl-..."
  std::string model;  // the served name reported back
  int64_t created = 0;
  std::vector<std::vector<int32_t>> prompts;  // one engine request each, n sequences each
  std::vector<std::string> echo_texts;        // per prompt, when echo was asked
  engine::SamplingParams params;
  bool stream = false;
  StreamOptions stream_options;
  bool logprobs = false;       // chat: logprobs asked; completions: params.logprobs set
  bool tokens_as_ids = false;  // logprobs name tokens "token_id:<id>"
  bool echo_logprobs = false;  // completions: echo + logprobs, the prompt's logprobs lead
  // completions: echo with max_tokens 0; the engine's one token is dropped from the answer.
  bool score_prompt_only = false;
  SteadyTime arrival;  // when the HTTP request was handed to the service
  // Chat with tools: reads each choice's tool calls out of its text (null: the text is content).
  std::shared_ptr<const toolcall::Parser> tool_parser;
  // finish_reason "tool_calls" when a choice made calls ("stop" stays for a named function,
  // as OpenAI answers it).
  bool finish_as_tool_calls = true;
  // Per prompt, the text as given or rendered; filled only with --trace-content.
  std::vector<std::string> prompt_texts;
};

// Starts the request and answers `writer` when it completes (or as it streams). The
// caller has counted it in `context->in_flight`; it is uncounted when it ends.
void StartGeneration(std::shared_ptr<OpenAiService::Context> context, GenerationPlan plan,
                     std::shared_ptr<ResponseWriter> writer);

// A random id with the given prefix ("cmpl-" + 32 hex digits).
std::string NewResponseId(const std::string& prefix);

}  // namespace lantern::server
