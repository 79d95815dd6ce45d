// The llm_request spans of one generation (one per prompt), fed by the generation session
// on I/O threads: started at submission, given token events, content and the first
// chunk's time as output is written, and ended from the engine's final metrics. Holds
// nothing and costs a branch per call when tracing is off or the request is not sampled.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/request.h"
#include "server/request_tracing.h"
#include "telemetry/context.h"

namespace lantern::server {

struct GenerationPlan;

class GenerationTrace {
 public:
  // `parent`: the HTTP span's context (null: a new trace). `max_model_len` bounds the
  // effective max_tokens of requests that set none.
  GenerationTrace(const GenerationPlan& plan, const telemetry::Context* parent, int max_model_len,
                  const RequestTracingOptions& options);
  ~GenerationTrace();  // ends spans still open as failed
  GenerationTrace(const GenerationTrace&) = delete;
  GenerationTrace& operator=(const GenerationTrace&) = delete;

  bool active() const { return !requests_.empty(); }
  // For engine::Request::trace_context: an EngineTraceContext (step_tracing.h) with the
  // llm_request span's context (engine_step spans link to it); null unless detailed traces
  // are on (for every request, or for this one by its detail header) and the span records.
  std::shared_ptr<void> EngineContext(size_t prompt) const;
  // The llm_request span of `prompt` (metric exemplars point at it); null when not traced.
  const telemetry::SpanContext* SpanContextOf(size_t prompt) const {
    return prompt < requests_.size() ? &requests_[prompt].span.context() : nullptr;
  }

  void OnDelta(size_t prompt, const engine::SequenceDelta& delta) {
    if (active()) RecordDelta(prompt, delta);
  }
  // A stream chunk carrying output of `prompt` was written.
  void OnChunkWritten(size_t prompt) {
    if (active() && !requests_[prompt].end.first_chunk) requests_[prompt].end.first_chunk = Now();
  }
  // The engine's last update of `prompt`; `finish_reasons` per sequence.
  void OnFinished(size_t prompt, const engine::RequestOutput& out,
                  std::vector<std::string> finish_reasons);
  // Ends every span still open as failed (`error_type`, finish reason "abort").
  void FailOpen(const std::string& error_type);

 private:
  struct Traced {
    telemetry::Span span;
    LlmRequestEnd end;
    std::vector<std::string> texts;  // per sequence, with content
    bool open = true;
  };
  void RecordDelta(size_t prompt, const engine::SequenceDelta& delta);
  void End(Traced& request);

  RequestTracingOptions options_;
  bool detail_requested_ = false;  // by the request itself (telemetry::Context::detailed)
  int n_ = 1;
  SteadyTime arrival_;
  std::vector<Traced> requests_;  // per prompt; empty when not traced
};

}  // namespace lantern::server
