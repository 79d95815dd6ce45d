// The SDK's own health: process-wide counters the server reads for /metrics. Counting is
// a relaxed atomic add; reading gives a consistent-enough snapshot (each counter exact,
// the set not taken at one instant).
#pragma once

#include <cstdint>

namespace lantern::telemetry {

// Why spans were dropped after they ended (before reaching the collector).
enum class DropReason {
  kQueueFull,     // the batch processor's queue was full
  kExportFailed,  // the exporter gave up (non-retryable error or retries exhausted)
  kShutdown,      // ended after the processor shut down
  kRejected,      // the collector refused them (partial success)
  kTooLarge,      // an export request would exceed the size limit
};

struct TelemetryHealth {
  uint64_t spans_started = 0;   // recording spans started (unsampled spans are not counted)
  uint64_t spans_ended = 0;     // recording spans ended
  uint64_t spans_exported = 0;  // spans in batches the exporter reported delivered
  uint64_t spans_dropped_queue_full = 0;
  uint64_t spans_dropped_export_failed = 0;
  uint64_t spans_dropped_shutdown = 0;
  uint64_t spans_dropped_rejected = 0;
  uint64_t spans_dropped_too_large = 0;
  uint64_t export_batches = 0;   // Export calls made by span processors
  uint64_t export_failures = 0;  // Export calls that returned kFailure
  uint64_t export_retries = 0;   // retried requests inside exporters
  // The lantern_tail sampler (tail_sampling.h): traces decided, and how.
  uint64_t tail_traces_kept = 0;
  uint64_t tail_traces_dropped = 0;
  uint64_t tail_traces_decided_early = 0;  // decided before their root ended: buffer full
  uint64_t tail_spans_dropped = 0;         // spans of dropped traces (sampled out, by design)
};

TelemetryHealth ReadHealth();

void RecordSpanStarted();
void RecordSpanEnded();
void RecordSpansExported(uint64_t count);
void RecordSpansDropped(DropReason reason, uint64_t count);
void RecordExportBatch(bool success);
void RecordExportRetry();
// One trace decided by the tail sampler; `spans_dropped` of its spans were not kept.
void RecordTailDecision(bool kept, bool early, uint64_t spans_dropped);
// Spans of a trace already dropped (they ended after the decision).
void RecordTailSpansDropped(uint64_t count);

}  // namespace lantern::telemetry
