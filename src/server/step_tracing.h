// engine_step spans (--collect-detailed-traces): one root span per engine step with the
// batch's shape and timings, linked to the llm_request span of every request in the batch
// so a user can see which requests shared (and slowed) each step.
#pragma once

#include <functional>

#include "engine/engine_stats.h"
#include "telemetry/tracer.h"

namespace lantern::server {

// What engine::Request::trace_context holds for a traced request (see
// GenerationTrace::EngineContext): the llm_request span to link to, and whether the request
// asked for the detailed level itself (then the steps it ran in are kept by a tail sampler).
struct EngineTraceContext {
  telemetry::SpanContext span;
  bool keep = false;
};

// Records one engine_step span from `step` (whose trace_contexts hold EngineTraceContext;
// null entries get no link). Unless `every_step`, a step without any linked request
// records nothing (only requests raised by the detail header have contexts then).
void RecordEngineStepSpan(const telemetry::Tracer& tracer, const engine::StepStats& step,
                          bool every_step = true);

// An EngineConfig::on_step callback recording engine_step spans with the global provider.
// Runs on the engine thread. `every_step`: --collect-detailed-traces (every step); false:
// only steps of requests that asked for the detailed level (a loop over the batch else).
std::function<void(const engine::StepStats&)> MakeEngineStepTracer(bool every_step = true);

}  // namespace lantern::server
