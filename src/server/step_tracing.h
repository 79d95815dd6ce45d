// engine_step spans (--collect-detailed-traces): one root span per engine step with the
// batch's shape and timings, linked to the llm_request span of every request in the batch
// so a user can see which requests shared (and slowed) each step.
#pragma once

#include <functional>

#include "engine/engine_stats.h"
#include "telemetry/tracer.h"

namespace lantern::server {

// Records one engine_step span from `step` (whose trace_contexts hold the requests'
// telemetry::SpanContext, see GenerationTrace::EngineContext; null entries get no link).
void RecordEngineStepSpan(const telemetry::Tracer& tracer, const engine::StepStats& step);

// An EngineConfig::on_step callback recording engine_step spans with the global provider.
// Runs on the engine thread: install it only with detailed traces.
std::function<void(const engine::StepStats&)> MakeEngineStepTracer();

}  // namespace lantern::server
