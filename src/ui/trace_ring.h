// The built-in viewer's memory: the most recent traces, fed by a span processor beside the
// exporters, bounded both in traces and in bytes whatever the load. Spans are kept as the
// SDK ended them (no copy, no serialization on the request path); summaries and OTLP/JSON
// are made only when someone asks (the page is open).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "telemetry/span_data.h"
#include "telemetry/span_processor.h"

namespace lantern::ui {

struct TraceRingOptions {
  size_t max_traces = 1000;             // request traces kept (the start-up trace apart)
  size_t max_bytes = size_t{64} << 20;  // estimated memory of every span kept, in all
  size_t max_step_spans = 4096;         // engine_step spans kept (detailed traces)
};

using SpanPtr = std::shared_ptr<const telemetry::SpanData>;

// What the request list shows of one trace, read from its spans' attributes.
struct TraceSummary {
  std::string trace_id;  // lower-case hex
  uint64_t seq = 0;      // the ring's sequence number of the trace's last span
  std::string name;      // the first local root span's name ("POST /v1/completions")
  int64_t start_unix_nano = 0;
  int64_t end_unix_nano = 0;
  double duration_s = 0;  // the HTTP span's (else first start to last end)
  std::string method, route, path;
  int64_t status_code = 0;  // HTTP status; 0 when there is no HTTP span
  std::string model;
  int64_t requests = 0;  // llm_request spans
  int64_t prompt_tokens = 0, completion_tokens = 0;
  std::optional<double> ttft_s, e2e_s;
  bool error = false, aborted = false;
  int64_t preemptions = 0;
  bool remote_parent = false;  // the caller sent a traceparent
  size_t span_count = 0;
  bool startup = false;  // the lantern.startup trace
};

struct TraceRingStats {
  size_t traces = 0, step_spans = 0, bytes = 0;
  uint64_t seq = 0;  // bumped by every span kept: "anything new?"
  uint64_t evicted_traces = 0;
  uint64_t dropped_spans = 0;  // spans larger than the whole byte budget
};

class TraceRing {
 public:
  explicit TraceRing(TraceRingOptions options);

  // Keeps one ended span (the processor's OnEnd). Short critical section, never blocks on
  // I/O; evicts the oldest traces while over a bound.
  void Add(std::unique_ptr<telemetry::SpanData> span);

  // Newest first (by the trace's first span), at most `limit` after skipping the `skip`
  // newest, the start-up trace included.
  std::vector<TraceSummary> Summaries(size_t limit, size_t skip = 0) const;
  // The spans of one trace, and the engine_step spans that link to it; empty if unknown.
  std::vector<SpanPtr> Trace(const telemetry::TraceId& id, std::vector<SpanPtr>* steps) const;
  std::optional<telemetry::TraceId> startup_trace() const;
  TraceRingStats stats() const;
  const TraceRingOptions& options() const { return options_; }

  // What a span is counted as in the byte budget (its strings, attributes, events, links).
  static size_t EstimateBytes(const telemetry::SpanData& span);

 private:
  struct Entry {
    telemetry::TraceId id{};
    uint64_t seq = 0;
    size_t bytes = 0;
    bool step = false;  // one engine_step span, not a request trace
    std::vector<SpanPtr> spans;
  };
  struct IdHash {
    size_t operator()(const telemetry::TraceId& id) const;
  };
  using EntryList = std::list<Entry>;

  void EvictLocked();
  void EraseLocked(EntryList::iterator it);

  const TraceRingOptions options_;
  mutable std::mutex mu_;
  EntryList entries_;  // oldest first, request traces and steps interleaved
  std::unordered_map<telemetry::TraceId, EntryList::iterator, IdHash> index_;
  size_t traces_ = 0, steps_ = 0, bytes_ = 0;
  uint64_t seq_ = 0, evicted_ = 0, dropped_ = 0;
  std::optional<telemetry::TraceId> startup_;
};

// Reads a summary from the spans of one trace.
TraceSummary Summarize(const std::vector<SpanPtr>& spans);

// The processor to hand to telemetry::TelemetryOptions::extra_processors.
std::unique_ptr<telemetry::SpanProcessor> MakeTraceRingProcessor(std::shared_ptr<TraceRing> ring);

}  // namespace lantern::ui
