// The OpenAI-compatible API on top of the engine: /v1/completions, /v1/chat/completions,
// /v1/models, /tokenize, /detokenize, /health, /version, /metrics. I/O threads read the
// requests; a bounded preprocessing queue parses, renders and tokenizes them (so that no
// prompt or template can stall /health or a stream); generation runs on the engine thread,
// and its output comes back to an I/O thread (never formatted on the engine thread) to be
// written as JSON or SSE.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/clock.h"
#include "base/status.h"
#include "base/task_queue.h"
#include "engine/engine.h"
#include "server/metrics.h"
#include "server/openai_protocol.h"
#include "server/request_tracing.h"
#include "server/router.h"
#include "server/serving_metrics.h"
#include "toolcall/tool_parser.h"

namespace lantern::server {

struct GenerationPlan;

// What the service needs of the tokenizer and the chat template; the embedder wires these
// to the real tokenizer (the server never depends on its internals).
struct TextCodec {
  std::function<Result<std::vector<int32_t>>(const std::string& text, bool add_special_tokens)>
      encode;
  std::function<std::string(std::span<const int32_t> ids, bool skip_special_tokens)> decode;
  // The text of one token as logprobs show it (may be a partial UTF-8 sequence).
  std::function<std::string(int32_t id)> token_text;
  // Renders chat messages to a prompt. Unset when the model has no chat template.
  // NotFound: no template; any other error: the template rejected the messages (a 400).
  std::function<Result<std::string>(const ChatRequest& request)> render_chat;
  // The most text bytes one token stands for (0: unknown). A prompt of B bytes needs at
  // least B / max_token_bytes tokens, which lets a hopeless prompt be refused untokenized.
  size_t max_token_bytes = 0;
};

struct ServiceOptions {
  std::vector<std::string> served_model_names;  // the first is reported in responses
  std::string model_root;                       // the model directory, for /v1/models
  int max_model_len = 0;
  int vocab_size = 0;
  engine::SamplingParams default_params;  // from generation_config.json
  // Generation requests in flight (queued or running) past which new ones get 503.
  size_t max_in_flight = 4096;
  // Requests the engine can hold at once: a prompt list longer than this can never run.
  size_t max_queued_prompts = 4096;
  // Parsing, rendering and tokenizing run on these threads, never on the I/O threads; past
  // `max_pending_preprocess` waiting requests, new ones get 503 with Retry-After.
  int preprocess_threads = 2;
  size_t max_pending_preprocess = 1024;
  bool log_requests = true;
  // Paths whose exchanges get no access-log line (scrapes and probes, every few seconds):
  // vLLM's --disable-access-log-for-endpoints.
  std::vector<std::string> quiet_paths = {"/health", "/metrics", "/ping"};
  // Whether a request may carry its own `chat_template` (--trust-request-chat-template). A
  // template is a program the server runs: by default such requests get 400, as in vLLM.
  bool trust_request_chat_template = false;
  // --enable-auto-tool-choice and --tool-call-parser: tool_choice "auto" reads the model's
  // calls with this parser; without both, "auto" with tools is a 400 (as in vLLM).
  bool enable_auto_tool_choice = false;
  std::shared_ptr<const toolcall::Parser> tool_parser;
  RequestTracingOptions tracing;  // request spans (HTTP spans follow the global provider)
  // /metrics under lantern's names or vLLM's (--metrics-names).
  MetricsNaming metrics_naming = MetricsNaming::kLantern;
};

class OpenAiService {
 public:
  // `post_to_io` runs a task on an I/O thread. All pointers must outlive the service.
  OpenAiService(ServiceOptions options, engine::Engine* engine, TextCodec codec,
                MetricsRegistry* registry, ServingMetrics* metrics,
                std::function<void(std::function<void()>)> post_to_io);

  void Register(Router& router);
  // /health answers 503 until the server is ready (and again once the engine died).
  void SetReady(bool ready) { ready_.store(ready); }
  // After SIGTERM: /health answers 503 "shutting down" and generation requests are refused.
  void SetDraining() {
    draining_.store(true);
    ready_.store(false);
  }
  // Generation requests in flight.
  size_t in_flight() const { return in_flight_->load(); }

  struct Context;  // shared with the per-request generation code

 private:
  class InFlightTicket;
  using Work =
      std::function<void(const HttpRequest&, std::shared_ptr<ResponseWriter>, InFlightTicket&)>;

  // Runs `work` on the preprocessing queue with a copy of the request (503 when the queue
  // is full); errors it throws are answered as the router answers them. A generation
  // request is counted in flight (`admit`) before it waits, so that draining sees it.
  void RunOffIo(const HttpRequest& request, std::shared_ptr<ResponseWriter> writer, bool admit,
                Work work);
  // On the I/O thread: checks that need no parsing, then hands over to RunOffIo.
  void HandleCompletions(const HttpRequest& request, std::shared_ptr<ResponseWriter> writer);
  void HandleChat(const HttpRequest& request, std::shared_ptr<ResponseWriter> writer);
  // On a preprocessing thread: parse, render, tokenize, validate, start generating.
  void PrepareCompletions(const HttpRequest& request, SteadyTime arrival,
                          std::shared_ptr<ResponseWriter> writer, InFlightTicket& ticket);
  void PrepareChat(const HttpRequest& request, SteadyTime arrival,
                   std::shared_ptr<ResponseWriter> writer, InFlightTicket& ticket);
  // From the parsed chat request on: render, tokenize, check, start generating.
  void StartChat(ChatRequest parsed, SteadyTime arrival, std::shared_ptr<ResponseWriter> writer,
                 InFlightTicket& ticket);
  // tool_choice: how the reply's tool calls are read (and forced); 400 when not possible.
  void ApplyToolChoice(ChatRequest& request, GenerationPlan& plan) const;
  // POST /v1/responses (responses_service.cc): a chat request whose stream a
  // ResponsesWriter turns into the Responses API's answer.
  void HandleResponses(const HttpRequest& request, std::shared_ptr<ResponseWriter> writer);
  void PrepareResponses(const HttpRequest& request, SteadyTime arrival,
                        std::shared_ptr<ResponseWriter> writer, InFlightTicket& ticket);
  void HandleTokenize(const HttpRequest& request, ResponseWriter& writer);
  void HandleDetokenize(const HttpRequest& request, ResponseWriter& writer);
  void HandleModels(std::shared_ptr<ResponseWriter> writer);
  void HandleRetrieveModel(const HttpRequest& request, std::shared_ptr<ResponseWriter> writer);
  nlohmann::json ModelCard(const std::string& name) const;

  const std::string& ResolveModel(const std::string& requested) const;
  std::vector<int32_t> Tokenize(const std::string& text, bool add_special_tokens,
                                const std::string& param) const;
  std::string RenderChat(const ChatRequest& request) const;
  // Counts a generation request in flight, or throws 503 past the limit.
  void Admit();
  void CheckTokenIds(const std::vector<int32_t>& ids, const std::string& param) const;
  // Refuses, before tokenizing, a prompt whose bytes cannot fit the context whatever the
  // tokenization (see max_token_bytes).
  void CheckPromptBytes(size_t bytes, const char* what, const std::string& param) const;

  std::shared_ptr<Context> context_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> draining_{false};
  std::shared_ptr<std::atomic<size_t>> in_flight_;
  std::unique_ptr<TaskQueue> preprocess_;  // last: its workers stop before the rest goes
};

}  // namespace lantern::server
