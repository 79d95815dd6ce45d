#include "server/generation.h"

#include <algorithm>
#include <mutex>
#include <random>

#include <nlohmann/json.hpp>

#include "base/log.h"
#include "server/api_error.h"
#include "server/chat_tools.h"
#include "server/genai_metrics.h"
#include "server/generation_trace.h"
#include "server/logprobs_json.h"
#include "server/router.h"
#include "telemetry/ids.h"

namespace lantern::server {
namespace {

using nlohmann::json;

std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

json StopReasonJson(const std::variant<std::monostate, int32_t, std::string>& reason) {
  if (const auto* id = std::get_if<int32_t>(&reason)) return *id;
  if (const auto* text = std::get_if<std::string>(&reason)) return *text;
  return nullptr;
}

class GenerationSession : public std::enable_shared_from_this<GenerationSession> {
 public:
  GenerationSession(std::shared_ptr<OpenAiService::Context> context, GenerationPlan plan,
                    std::shared_ptr<ResponseWriter> writer)
      : ctx_(std::move(context)),
        plan_(std::move(plan)),
        writer_(std::move(writer)),
        trace_(plan_, writer_->trace_context(), ctx_->options.max_model_len,
               ctx_->options.tracing),
        log_context_(log::CurrentContext()) {
    size_t n = static_cast<size_t>(plan_.params.n);
    choices_.resize(plan_.prompts.size() * n);
    for (size_t i = 0; i < choices_.size(); ++i) {
      if (!plan_.echo_texts.empty()) choices_[i].text = plan_.echo_texts[i / n];
      choices_[i].text_length = choices_[i].text.size();
      choices_[i].echo_size = choices_[i].text.size();
      if (plan_.chat && plan_.tool_parser && plan_.stream) {
        choices_[i].tools = std::make_unique<ChoiceToolCalls>(*plan_.tool_parser);
      }
    }
    for (const auto& prompt : plan_.prompts) prompt_tokens_ += static_cast<int>(prompt.size());
  }

  ~GenerationSession() { ctx_->in_flight->fetch_sub(1); }

  void Start() {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < plan_.prompts.size(); ++i) {
      engine::Request request;
      request.id = plan_.id + "-" + std::to_string(i);
      request.prompt_token_ids = plan_.prompts[i];
      request.params = plan_.params;
      request.arrival_time = plan_.arrival;
      request.trace_context = trace_.EngineContext(i);
      auto stream = ctx_->engine->Submit(std::move(request));
      if (!stream.ok()) {
        AbortAll();
        done_ = true;
        trace_.FailOpen("rejected");
        throw ApiError(StatusForEngineError(stream.status()), stream.status().message(),
                       ParamOfEngineError(stream.status()));
      }
      streams_.push_back(*stream);
    }
    // From here on, outputs and the client's departure drive the session.
    std::weak_ptr<GenerationSession> weak = shared_from_this();
    writer_->SetCancelCallback([weak] {
      if (auto self = weak.lock()) self->OnClientGone();
    });
    if (plan_.stream) {
      writer_->BeginStream(200, "text/event-stream",
                           {{"Cache-Control", "no-cache"}, {"X-Accel-Buffering", "no"}});
      StreamPreamble();
    }
    for (size_t i = 0; i < streams_.size(); ++i) {
      auto self = shared_from_this();
      streams_[i]->SetNotifier([self, i] {
        // On the engine thread: only hand the work to an I/O thread. Holding `self` here
        // keeps the session alive until its output is complete (Drain() lets go).
        self->ctx_->post_to_io([self, i] { self->Drain(i); });
      });
      ctx_->post_to_io([self, i] { self->Drain(i); });  // updates that came before the notifier
    }
  }

 private:
  struct Choice {
    std::string text;
    int num_tokens = 0;
    std::optional<engine::FinishReason> finish;
    json stop_reason;
    std::optional<SteadyTime> last_token_time;
    json logprobs;           // accumulated (non-streaming)
    size_t text_length = 0;  // characters so far, echo included (for text_offset)
    size_t echo_size = 0;    // the echoed prompt leading `text`
    std::unique_ptr<ChoiceToolCalls> tools;  // streaming with tools: its calls so far
    int tool_calls = 0;                      // calls made
  };

  void OnClientGone() {
    std::lock_guard lock(mu_);
    if (!done_) AbortAll();
  }

  void AbortAll() {
    for (size_t i = 0; i < plan_.prompts.size(); ++i) {
      ctx_->engine->Abort(plan_.id + "-" + std::to_string(i));
    }
  }

  void Drain(size_t i) {
    log::ScopedContext scope(log_context_);  // on an I/O thread: lines name the request
    std::lock_guard lock(mu_);
    if (done_) return;
    try {
      while (auto update = streams_[i]->TryNext()) {
        Process(i, *update);
        if (done_) break;
      }
    } catch (...) {
      done_ = true;
      AbortAll();
      trace_.FailOpen("engine_error");
      RespondWithException(*writer_, std::current_exception(), "generation " + plan_.id);
    }
    // The notifiers hold this session alive while it waits for output; let it go.
    if (done_) {
      for (auto& stream : streams_) stream->SetNotifier(nullptr);
    }
  }

  void Process(size_t prompt_index, engine::RequestOutput& out) {
    if (!out.error.ok()) {
      LANTERN_LOG(kError, "server")
          << "request " << out.request_id << " failed in the engine: " << out.error.ToString();
      done_ = true;
      AbortAll();
      ctx_->metrics->RecordEngineError(plan_.params.n);
      if (out.metrics) {
        RecordGenAiRequest(plan_.chat, plan_.model, *out.metrics,
                           trace_.SpanContextOf(prompt_index), "engine_error");
      }
      trace_.OnFinished(prompt_index, out, FinishReasons(prompt_index));
      throw ApiError(503, "The engine failed this request; please retry");
    }
    size_t n = static_cast<size_t>(plan_.params.n);
    std::optional<ExemplarContext> exemplar = ExemplarOf(prompt_index);
    if (!out.prompt_logprobs.empty()) OnPromptLogprobs(prompt_index, out.prompt_logprobs);
    for (auto& delta : out.sequences) {
      size_t index = prompt_index * n + static_cast<size_t>(delta.index);
      if (index >= choices_.size()) continue;
      Choice& choice = choices_[index];
      if (plan_.score_prompt_only) {
        DropScoringToken(index, delta);
        continue;
      }
      for (const auto& t : delta.token_times) {
        if (choice.last_token_time) {
          ctx_->metrics->RecordInterTokenLatency(SecondsBetween(*choice.last_token_time, t),
                                                 exemplar ? &*exemplar : nullptr);
        }
        choice.last_token_time = t;
      }
      choice.num_tokens += static_cast<int>(delta.token_ids.size());
      completion_tokens_ += static_cast<int>(delta.token_ids.size());
      trace_.OnDelta(prompt_index, delta);
      json logprobs = plan_.logprobs ? Logprobs(choice, delta) : json(nullptr);
      choice.text_length += delta.text.size();
      if (delta.finish_reason) {
        choice.finish = delta.finish_reason;
        choice.stop_reason = StopReasonJson(delta.stop_reason);
      }
      if (plan_.stream && choice.tools) {
        json message = choice.tools->Delta(delta.text, delta.finish_reason.has_value());
        choice.tool_calls = choice.tools->calls();
        if (!message.empty() || delta.finish_reason || !logprobs.is_null()) {
          WriteEvent(ChatChunk(index, std::move(message), logprobs, choice));
          trace_.OnChunkWritten(prompt_index);
        }
      } else if (plan_.stream) {
        if (!delta.text.empty() || delta.finish_reason || !logprobs.is_null()) {
          WriteEvent(Chunk(index, delta.text, logprobs, choice));
          trace_.OnChunkWritten(prompt_index);
        }
      } else {
        choice.text += delta.text;
        if (!logprobs.is_null()) AppendLogprobs(choice.logprobs, logprobs);
      }
    }
    if (out.finished) {
      std::vector<std::string> reasons = FinishReasons(prompt_index);
      if (out.metrics) {
        // An aborted sequence (the client left) makes the request a failed one.
        bool aborted = std::find(reasons.begin(), reasons.end(), "abort") != reasons.end();
        // One recording feeds /metrics and the GenAI (OTLP) metrics.
        const GenAiRequest genai{.chat = plan_.chat,
                                 .model = plan_.model,
                                 .span = trace_.SpanContextOf(prompt_index),
                                 .error_type = aborted ? "cancelled" : ""};
        ServingMetrics::FinishedRequest finished{.metrics = &*out.metrics,
                                                 .n = plan_.params.n,
                                                 .max_tokens = plan_.params.max_tokens,
                                                 .exemplar = exemplar ? &*exemplar : nullptr,
                                                 .genai = &genai};
        for (size_t i = prompt_index * n; i < (prompt_index + 1) * n && i < choices_.size(); ++i) {
          finished.sequence_tokens.push_back(choices_[i].num_tokens);
        }
        ctx_->metrics->RecordFinished(finished);
      }
      trace_.OnFinished(prompt_index, out, std::move(reasons));
      if (++finished_requests_ == streams_.size()) Finish();
    }
  }

  // echo with max_tokens 0: the one token the engine had to generate is not part of the
  // answer; the choice is the prompt alone, finished by the length limit of 0.
  void DropScoringToken(size_t index, const engine::SequenceDelta& delta) {
    Choice& choice = choices_[index];
    if (!delta.finish_reason || choice.finish) return;
    choice.finish = engine::FinishReason::kLength;
    if (plan_.stream) {
      WriteEvent(Chunk(index, "", nullptr, choice));
      trace_.OnChunkWritten(index / static_cast<size_t>(plan_.params.n));
    }
  }

  // The trace of a sampled request, kept by the histograms as their buckets' exemplar.
  std::optional<ExemplarContext> ExemplarOf(size_t prompt_index) const {
    const telemetry::SpanContext* span = trace_.SpanContextOf(prompt_index);
    if (span == nullptr || !span->IsValid() || !span->IsSampled()) return std::nullopt;
    return ExemplarContext{telemetry::ToHex(span->trace_id), telemetry::ToHex(span->span_id)};
  }

  // The finish reasons of the sequences of one prompt (unfinished ones count as aborted).
  std::vector<std::string> FinishReasons(size_t prompt_index) const {
    size_t n = static_cast<size_t>(plan_.params.n);
    std::vector<std::string> reasons;
    for (size_t k = 0; k < n; ++k) {
      const auto& finish = choices_[prompt_index * n + k].finish;
      reasons.push_back(engine::FinishReasonName(finish.value_or(engine::FinishReason::kAbort)));
    }
    return reasons;
  }

  void OnPromptLogprobs(size_t prompt_index,
                        const std::vector<engine::PositionLogprobs>& positions) {
    TokenNamer name = [this](int32_t id) { return TokenText(id); };
    if (prompt_logprobs_.size() <= prompt_index) prompt_logprobs_.resize(plan_.prompts.size());
    prompt_logprobs_[prompt_index] = PromptLogprobs(positions, name);
    if (!plan_.echo_logprobs) return;
    // Echo: the prompt's tokens lead the choice's logprobs (the first one unscored).
    json echoed = CompletionLogprobs(positions, name, 0, /*first_unscored=*/true);
    size_t n = static_cast<size_t>(plan_.params.n);
    for (size_t k = 0; k < n; ++k) {
      size_t index = prompt_index * n + k;
      if (index >= choices_.size()) break;
      if (plan_.stream) {
        // The echoed prompt waited for its logprobs (see StreamPreamble).
        json c = {{"index", index},
                  {"text", plan_.echo_texts[prompt_index]},
                  {"logprobs", echoed},
                  {"finish_reason", nullptr}};
        json chunk = ChunkBase();
        chunk["choices"] = json::array({std::move(c)});
        WriteEvent(chunk);
      } else {
        json merged = echoed;
        if (!choices_[index].logprobs.is_null()) AppendLogprobs(merged, choices_[index].logprobs);
        choices_[index].logprobs = std::move(merged);
      }
    }
  }

  std::string TokenText(int32_t id) const {
    return plan_.tokens_as_ids ? "token_id:" + std::to_string(id) : ctx_->codec.token_text(id);
  }

  // Logprobs of the delta's tokens, in the endpoint's shape.
  json Logprobs(const Choice& choice, const engine::SequenceDelta& delta) const {
    if (delta.logprobs.empty()) return nullptr;
    TokenNamer name = [this](int32_t id) { return TokenText(id); };
    if (plan_.chat) return ChatLogprobs(delta.logprobs, name);
    return CompletionLogprobs(delta.logprobs, name, choice.text_length);
  }

  // --- streaming ---
  json ChunkBase() const {
    json chunk{{"id", plan_.id},
               {"object", plan_.chat ? "chat.completion.chunk" : "text_completion"},
               {"created", plan_.created},
               {"model", plan_.model}};
    // vLLM's continuous_usage_stats: every chunk, the role and echo ones too, has the usage.
    if (plan_.stream_options.include_usage && plan_.stream_options.continuous_usage_stats) {
      chunk["usage"] = Usage();
    }
    return chunk;
  }

  json Chunk(size_t index, const std::string& text, const json& logprobs, const Choice& choice) {
    if (plan_.chat) {
      json delta = json::object();
      if (!text.empty()) delta["content"] = text;
      return ChatChunk(index, std::move(delta), logprobs, choice);
    }
    json c = {{"index", index}, {"text", text}, {"logprobs", logprobs}};
    c["finish_reason"] = FinishReason(choice);
    c["stop_reason"] = choice.stop_reason;
    json chunk = ChunkBase();
    chunk["choices"] = json::array({std::move(c)});
    return chunk;
  }

  // A chat chunk with the given delta ({"content": ...}, {"tool_calls": [...]}).
  json ChatChunk(size_t index, json delta, const json& logprobs, const Choice& choice) {
    json c = {{"index", index}, {"delta", std::move(delta)}, {"logprobs", logprobs}};
    c["finish_reason"] = FinishReason(choice);
    c["stop_reason"] = choice.stop_reason;
    json chunk = ChunkBase();
    chunk["choices"] = json::array({std::move(c)});
    return chunk;
  }

  // Chat streams start with the role of every choice; completions echo the prompt first.
  void StreamPreamble() {
    for (size_t index = 0; index < choices_.size(); ++index) {
      json c;
      if (plan_.chat) {
        c = {{"index", index},
             {"delta", {{"role", "assistant"}, {"content", choices_[index].text}}},  // echo
             {"logprobs", nullptr},
             {"finish_reason", nullptr}};
      } else if (!plan_.echo_texts.empty() && !plan_.echo_logprobs) {
        c = {{"index", index},
             {"text", choices_[index].text},
             {"logprobs", nullptr},
             {"finish_reason", nullptr}};
      } else {
        continue;
      }
      json chunk = ChunkBase();
      chunk["choices"] = json::array({std::move(c)});
      WriteEvent(chunk);
    }
  }

  // The engine's reason, or "tool_calls" for a chat choice that stopped after making calls.
  json FinishReason(const Choice& choice) const {
    if (!choice.finish) return nullptr;
    if (choice.tool_calls > 0 && plan_.finish_as_tool_calls &&
        *choice.finish == engine::FinishReason::kStop) {
      return "tool_calls";
    }
    return engine::FinishReasonName(*choice.finish);
  }

  void WriteEvent(const json& chunk) { writer_->WriteChunk("data: " + Dump(chunk) + "\n\n"); }

  json Usage() const {
    return {{"prompt_tokens", prompt_tokens_},
            {"completion_tokens", completion_tokens_},
            {"total_tokens", prompt_tokens_ + completion_tokens_}};
  }

  void Finish() {
    done_ = true;
    if (plan_.stream) {
      if (plan_.stream_options.include_usage) {
        json chunk = ChunkBase();
        chunk["choices"] = json::array();
        chunk["usage"] = Usage();
        WriteEvent(chunk);
      }
      writer_->WriteChunk("data: [DONE]\n\n");
      writer_->EndStream();
      return;
    }
    json choices = json::array();
    for (size_t index = 0; index < choices_.size(); ++index) {
      Choice& choice = choices_[index];
      json message = {{"role", "assistant"}, {"content", choice.text}};
      if (plan_.chat && plan_.tool_parser) {
        // Only the generated text holds calls; an echoed prompt stays content.
        std::string_view generated = std::string_view(choice.text).substr(choice.echo_size);
        message = ToolCallMessage(*plan_.tool_parser, generated, &choice.tool_calls);
        if (choice.echo_size > 0) {
          const json& content = message["content"];
          message["content"] = choice.text.substr(0, choice.echo_size) +
                               (content.is_string() ? content.get<std::string>() : "");
        }
      }
      json finish = FinishReason(choice);
      json logprobs = choice.logprobs;
      if (plan_.logprobs && logprobs.is_null()) {
        logprobs = plan_.chat ? json{{"content", json::array()}} : json(nullptr);
      }
      if (plan_.chat) {
        choices.push_back({{"index", index},
                           {"message", std::move(message)},
                           {"logprobs", logprobs},
                           {"finish_reason", finish},
                           {"stop_reason", choice.stop_reason}});
      } else {
        choices.push_back({{"index", index},
                           {"text", choice.text},
                           {"logprobs", logprobs},
                           {"finish_reason", finish},
                           {"stop_reason", choice.stop_reason}});
        size_t prompt_index = index / static_cast<size_t>(plan_.params.n);
        if (prompt_index < prompt_logprobs_.size() && !prompt_logprobs_[prompt_index].is_null()) {
          choices.back()["prompt_logprobs"] = prompt_logprobs_[prompt_index];
        }
      }
    }
    json body = {{"id", plan_.id},
                 {"object", plan_.chat ? "chat.completion" : "text_completion"},
                 {"created", plan_.created},
                 {"model", plan_.model},
                 {"choices", std::move(choices)},
                 {"usage", Usage()}};
    // Chat has one prompt; vLLM puts its prompt logprobs beside the choices.
    if (plan_.chat && !prompt_logprobs_.empty() && !prompt_logprobs_[0].is_null()) {
      body["prompt_logprobs"] = prompt_logprobs_[0];
    }
    writer_->Send(HttpResponse{200, "application/json", {}, Dump(body)});
  }

  std::shared_ptr<OpenAiService::Context> ctx_;
  GenerationPlan plan_;
  std::shared_ptr<ResponseWriter> writer_;
  GenerationTrace trace_;           // guarded by mu_ after Start
  const log::Context log_context_;  // the request's trace, for the lines Drain writes

  std::mutex mu_;
  std::vector<std::shared_ptr<engine::RequestStream>> streams_;
  std::vector<Choice> choices_;
  std::vector<json> prompt_logprobs_;  // per prompt, when asked
  size_t finished_requests_ = 0;
  int prompt_tokens_ = 0;
  int completion_tokens_ = 0;
  bool done_ = false;
};

}  // namespace

void StartGeneration(std::shared_ptr<OpenAiService::Context> context, GenerationPlan plan,
                     std::shared_ptr<ResponseWriter> writer) {
  auto session =
      std::make_shared<GenerationSession>(std::move(context), std::move(plan), std::move(writer));
  session->Start();
}

std::string NewResponseId(const std::string& prefix) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char hex[33];
  uint64_t a = rng(), b = rng();
  std::snprintf(hex, sizeof(hex), "%016llx%016llx", static_cast<unsigned long long>(a),
                static_cast<unsigned long long>(b));
  return prefix + hex;
}

}  // namespace lantern::server
