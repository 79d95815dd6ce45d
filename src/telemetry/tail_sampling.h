// Tail sampling: OTEL_TRACES_SAMPLER=lantern_tail. Every span records (the sampler says
// "record, decide later"); the processor holds a trace's spans until its local root span
// ends and then forwards the whole trace or drops it. A trace is kept when it failed, was
// aborted, was slow (end to end or to the first token), asked to be kept
// (kForceKeepAttribute), or falls in the trace-id ratio; a caller's sampled parent is
// always kept (those spans carry the sampled flag and pass straight through).
//
// The buffer is bounded by spans and by bytes: when a new span would exceed either, the
// oldest held traces are decided early (kept if they already qualify or fall in the
// ratio, dropped otherwise). Decisions are remembered for spans that end after their root;
// a span that qualifies on its own turns a dropped trace into a kept one from there on. Nothing here knows about the server:
// it reads span status, `error.type`, `http.response.status_code`, an `aborted` event,
// `gen_ai.latency.time_to_first_token` and kForceKeepAttribute.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "telemetry/sampler.h"
#include "telemetry/span_processor.h"

namespace lantern::telemetry {

// A span attribute that forces its trace to be kept (any integer > 0 or `true`), after
// OpenTracing's `sampling.priority` that Jaeger and others honour.
inline constexpr char kForceKeepAttribute[] = "sampling.priority";

// OTEL_TRACES_SAMPLER_ARG for lantern_tail: comma-separated key=value pairs.
struct TailSamplingOptions {
  double ratio = 0.01;           // ratio=: of the traces that do not qualify otherwise
  int64_t latency_ms = 2000;     // latency_ms=: local root span duration (0: off)
  int64_t ttft_ms = 0;           // ttft_ms=: time to first token (0: off)
  bool errors = true;            // errors=: status error, error.type, HTTP >= 500
  bool client_errors = false;    // client_errors=: HTTP 4xx responses too
  bool aborts = true;            // aborts=: aborted / cancelled / client gone
  size_t buffer_spans = 16384;   // buffer_spans=: spans held at most
  size_t buffer_mib = 64;        // buffer_mib=: approximate bytes held at most, in MiB
  size_t decided_traces = 8192;  // decided_traces=: decisions remembered for late spans
};

// Parses OTEL_TRACES_SAMPLER_ARG; unknown keys and bad values warn and keep the default.
TailSamplingOptions ParseTailSamplingArg(std::string_view arg);

// Records every span; only a sampled parent makes a span sampled (kept for sure).
// SamplerFromEnv builds one for OTEL_TRACES_SAMPLER=lantern_tail.
std::unique_ptr<Sampler> MakeTailSampler(const TailSamplingOptions& options);
// The options of a tail sampler; null for any other sampler.
const TailSamplingOptions* TailSamplingOptionsOf(const Sampler& sampler);

// The bytes a held span costs (its record and what it points at), approximately.
size_t HeldSpanBytes(const SpanData& span);

// Holds spans and forwards kept traces, with the sampled flag set, to `next` (each gets
// every kept span). Thread-safe; OnEnd takes a short lock and never waits on `next`.
class TailSamplingSpanProcessor : public SpanProcessor {
 public:
  TailSamplingSpanProcessor(TailSamplingOptions options,
                            std::vector<std::unique_ptr<SpanProcessor>> next);
  ~TailSamplingSpanProcessor() override;

  void OnEnd(std::unique_ptr<SpanData> span) override;
  // Flushes `next`; held traces stay held (they have not ended).
  bool ForceFlush(std::chrono::microseconds timeout) override;
  // Decides every held trace early, then shuts `next` down.
  bool Shutdown(std::chrono::microseconds timeout) override;

  struct Held {
    size_t traces = 0;
    size_t spans = 0;
    size_t bytes = 0;
  };
  Held held() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace lantern::telemetry
