#include "server/step_tracing.h"

#include <string>
#include <utility>

#include "telemetry/span.h"
#include "telemetry/tail_sampling.h"

namespace lantern::server {

void RecordEngineStepSpan(const telemetry::Tracer& tracer, const engine::StepStats& step,
                          bool every_step) {
  if (!every_step) {
    bool any = false;
    for (const auto& context : step.trace_contexts) any = any || context != nullptr;
    if (!any) return;
  }
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
  if (step.num_guided_seqs > 0) {  // guided decoding: the token masks' share of sample_s
    a.push_back({"lantern.step.mask_s", step.mask_s});
    a.push_back({"lantern.step.guided_seqs", int64_t{step.num_guided_seqs}});
  }
  bool keep = false;
  for (size_t i = 0; i < step.trace_contexts.size() && i < step.request_ids.size(); ++i) {
    const auto* context = static_cast<const EngineTraceContext*>(step.trace_contexts[i].get());
    if (context == nullptr || !context->span.IsValid()) continue;
    const telemetry::SpanContext* linked = &context->span;
    keep = keep || context->keep;
    telemetry::SpanLink link;
    link.trace_id = linked->trace_id;
    link.span_id = linked->span_id;
    link.trace_state = linked->trace_state;
    link.flags = linked->trace_flags;
    link.attributes.push_back({"gen_ai.request.id", step.request_ids[i]});
    options.links.push_back(std::move(link));
  }
  // A step of a request that asked for the detailed level is kept with that request.
  if (keep) a.push_back({telemetry::kForceKeepAttribute, int64_t{1}});
  telemetry::Span span = tracer.StartSpan("engine_step", std::move(options));
  span.End(telemetry::Timestamp(step.end));
}

std::function<void(const engine::StepStats&)> MakeEngineStepTracer(bool every_step) {
  return [tracer = telemetry::tracer("lantern.engine"), every_step](const engine::StepStats& step) {
    RecordEngineStepSpan(tracer, step, every_step);
  };
}

}  // namespace lantern::server
