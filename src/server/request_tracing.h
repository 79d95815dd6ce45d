// The spans of one engine request: `llm_request` (child of the HTTP span) with vLLM's and
// the OpenTelemetry GenAI attributes, and its `queue`, `prefill` and `decode` children and
// events, all timed by the engine's steady-clock timestamps so that they nest exactly and
// each latency attribute equals the duration of the span it describes. The span starts at
// submission (samplers see the request's parameters) with the arrival time, and the rest
// is built on an I/O thread from the final RequestMetrics: nothing runs on the engine
// thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "engine/request.h"
#include "engine/sampling_params.h"
#include "telemetry/span.h"
#include "telemetry/tracer.h"

namespace lantern::server {

// `lantern serve`'s tracing choices for request spans.
struct RequestTracingOptions {
  bool detailed = false;      // --collect-detailed-traces: forward/execute latencies
  bool token_events = false;  // --trace-token-events: a `token` event per token on `decode`
  bool content = false;       // --trace-content: gen_ai.prompt / gen_ai.completion
  // Token events beyond this many are not built (the span's event limit).
  size_t max_token_events = 128;
};

// What is known when the request is submitted.
struct LlmRequestStart {
  std::string request_id;   // the engine request id ("cmpl-...-0")
  std::string response_id;  // the response's id ("cmpl-...")
  std::string model;        // the served name
  bool chat = false;
  bool stream = false;
  int max_tokens = 0;  // the effective limit (explicit, or what the context leaves)
  const engine::SamplingParams* params = nullptr;
  SteadyTime arrival;
};

// The attributes a sampler may look at, passed to StartSpan.
telemetry::Attributes LlmRequestStartAttributes(const LlmRequestStart& start);
// Starts `llm_request` at the arrival time under `parent` (the HTTP span's context).
telemetry::Span StartLlmRequestSpan(const telemetry::Tracer& tracer,
                                    const telemetry::SpanContext& parent,
                                    const LlmRequestStart& start);

struct TokenEvent {
  SteadyTime time;
  int32_t token_id = 0;
  int sequence = 0;
};

// What is known when the request has finished.
struct LlmRequestEnd {
  engine::RequestMetrics metrics;           // the engine's final figures
  std::vector<std::string> finish_reasons;  // per sequence ("stop", "length", "abort")
  int num_sequences = 1;
  std::optional<SteadyTime> first_chunk;  // streams: when the first chunk was written
  // Non-empty for a request that did not complete: "aborted" (client gone, shutdown) or a
  // short reason for a failure ("engine_error").
  std::string error_type;
  std::vector<TokenEvent> tokens;                 // with token_events
  std::optional<std::string> prompt, completion;  // with content
};

// Adds the final attributes, children and events to `span` and ends it at the engine's
// finished time. Nothing is built for a span that does not record.
void EndLlmRequestSpan(const telemetry::Tracer& tracer, telemetry::Span& span,
                       const LlmRequestEnd& end, const RequestTracingOptions& options);

}  // namespace lantern::server
