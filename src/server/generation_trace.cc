#include "server/generation_trace.h"

#include <nlohmann/json.hpp>

#include "server/generation.h"
#include "server/step_tracing.h"
#include "telemetry/tracer.h"

namespace lantern::server {
namespace {

const telemetry::Tracer& ServerTracer() {
  static const telemetry::Tracer tracer = telemetry::tracer("lantern.server");
  return tracer;
}

}  // namespace

GenerationTrace::GenerationTrace(const GenerationPlan& plan, const telemetry::Context* parent,
                                 int max_model_len, const RequestTracingOptions& options) {
  const telemetry::Tracer& tracer = ServerTracer();
  if (!tracer.Enabled()) return;
  options_ = options;
  if (parent != nullptr && parent->detailed) {
    // The request asked for the detailed level (the detail header): for it alone.
    options_.detailed = true;
    options_.token_events = true;
    detail_requested_ = true;
  }
  n_ = plan.params.n;
  arrival_ = plan.arrival;
  const telemetry::SpanContext parent_context =
      parent != nullptr ? parent->span_context : telemetry::SpanContext{};
  std::vector<Traced> requests(plan.prompts.size());
  bool any = false;
  for (size_t i = 0; i < plan.prompts.size(); ++i) {
    LlmRequestStart start;
    start.request_id = plan.id + "-" + std::to_string(i);
    start.response_id = plan.id;
    start.model = plan.model;
    start.chat = plan.chat;
    start.stream = plan.stream;
    const int prompt_len = static_cast<int>(plan.prompts[i].size());
    start.max_tokens = plan.params.max_tokens.value_or(std::max(0, max_model_len - prompt_len));
    start.params = &plan.params;
    start.arrival = plan.arrival;
    Traced& t = requests[i];
    t.span = StartLlmRequestSpan(tracer, parent_context, start);
    if (!t.span.IsRecording()) continue;
    any = true;
    t.end.num_sequences = n_;
    t.end.metrics.arrival = plan.arrival;
    if (options_.content) {
      t.texts.resize(static_cast<size_t>(n_));
      if (i < plan.prompt_texts.size()) t.end.prompt = plan.prompt_texts[i];
    }
  }
  // Sampling decides per trace: either every span of this generation records or none.
  if (any) requests_ = std::move(requests);
}

GenerationTrace::~GenerationTrace() { FailOpen("aborted"); }

std::shared_ptr<void> GenerationTrace::EngineContext(size_t prompt) const {
  if (!active() || !options_.detailed || !requests_[prompt].span.IsRecording()) return nullptr;
  return std::make_shared<EngineTraceContext>(
      EngineTraceContext{requests_[prompt].span.context(), detail_requested_});
}

void GenerationTrace::RecordDelta(size_t prompt, const engine::SequenceDelta& delta) {
  Traced& t = requests_[prompt];
  if (!t.open) return;
  if (options_.token_events && t.end.tokens.size() < options_.max_token_events) {
    for (size_t k = 0; k < delta.token_ids.size() && k < delta.token_times.size(); ++k) {
      t.end.tokens.push_back({delta.token_times[k], delta.token_ids[k], delta.index});
    }
  }
  if (options_.content && static_cast<size_t>(delta.index) < t.texts.size()) {
    t.texts[static_cast<size_t>(delta.index)] += delta.text;
  }
}

void GenerationTrace::OnFinished(size_t prompt, const engine::RequestOutput& out,
                                 std::vector<std::string> finish_reasons) {
  if (!active()) return;
  Traced& t = requests_[prompt];
  if (!t.open) return;
  if (out.metrics) t.end.metrics = *out.metrics;
  t.end.finish_reasons = std::move(finish_reasons);
  if (!out.error.ok()) {
    t.end.error_type = "engine_error";
  } else {
    for (const auto& reason : t.end.finish_reasons) {
      if (reason == "abort") t.end.error_type = "aborted";
    }
  }
  End(t);
}

void GenerationTrace::FailOpen(const std::string& error_type) {
  for (Traced& t : requests_) {
    if (!t.open) continue;
    t.end.error_type = error_type;
    if (!t.end.metrics.finished) t.end.metrics.finished = std::max(Now(), arrival_);
    t.end.finish_reasons.assign(static_cast<size_t>(n_), "abort");
    End(t);
  }
}

void GenerationTrace::End(Traced& t) {
  t.open = false;
  if (options_.content) {
    if (t.texts.size() == 1) {
      t.end.completion = t.texts[0];
    } else {
      // n > 1: the sequences' texts as a JSON array of strings, in choice order.
      t.end.completion =
          nlohmann::json(t.texts).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  }
  EndLlmRequestSpan(ServerTracer(), t.span, t.end, options_);
}

}  // namespace lantern::server
