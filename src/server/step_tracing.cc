#include "server/step_tracing.h"

#include <string>
#include <utility>

#include "telemetry/span.h"

namespace lantern::server {

void RecordEngineStepSpan(const telemetry::Tracer& tracer, const engine::StepStats& step) {
  if (!tracer.Enabled()) return;
  telemetry::StartSpanOptions options;
  options.start_time = telemetry::Timestamp(step.start);
  auto& a = options.attributes;
  a.reserve(13);
  a.push_back({"lantern.step.id", static_cast<int64_t>(step.step)});
  a.push_back({"lantern.step.prefill_tokens", int64_t{step.num_prefill_tokens}});
  a.push_back({"lantern.step.decode_tokens", int64_t{step.num_decode_tokens}});
  a.push_back({"lantern.step.prefill_seqs", int64_t{step.num_prefill_seqs}});
  a.push_back({"lantern.step.decode_seqs", int64_t{step.num_decode_seqs}});
  a.push_back({"lantern.step.preempted", int64_t{step.num_preempted}});
  a.push_back({"lantern.step.running", int64_t{step.num_running}});
  a.push_back({"lantern.step.waiting", int64_t{step.num_waiting}});
  a.push_back({"lantern.step.kv_blocks_used", int64_t{step.kv_blocks_used}});
  a.push_back({"lantern.step.kv_blocks_total", int64_t{step.kv_blocks_total}});
  a.push_back({"lantern.step.schedule_s", step.schedule_s});
  a.push_back({"lantern.step.forward_s", step.forward_s});
  a.push_back({"lantern.step.sample_s", step.sample_s});
  for (size_t i = 0; i < step.trace_contexts.size() && i < step.request_ids.size(); ++i) {
    const auto* linked = static_cast<const telemetry::SpanContext*>(step.trace_contexts[i].get());
    if (linked == nullptr || !linked->IsValid()) continue;
    telemetry::SpanLink link;
    link.trace_id = linked->trace_id;
    link.span_id = linked->span_id;
    link.trace_state = linked->trace_state;
    link.flags = linked->trace_flags;
    link.attributes.push_back({"gen_ai.request.id", step.request_ids[i]});
    options.links.push_back(std::move(link));
  }
  telemetry::Span span = tracer.StartSpan("engine_step", std::move(options));
  span.End(telemetry::Timestamp(step.end));
}

std::function<void(const engine::StepStats&)> MakeEngineStepTracer() {
  return [tracer = telemetry::tracer("lantern.engine")](const engine::StepStats& step) {
    RecordEngineStepSpan(tracer, step);
  };
}

}  // namespace lantern::server
