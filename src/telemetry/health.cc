#include "telemetry/health.h"

#include <atomic>

namespace lantern::telemetry {
namespace {

// Never destroyed: spans may end while static destructors run at process exit.
// The counters bumped per span (on request threads) sit on their own cache lines, away
// from those the exporter thread bumps per batch.
struct Counters {
  alignas(64) std::atomic<uint64_t> spans_started{0};
  alignas(64) std::atomic<uint64_t> spans_ended{0};
  alignas(64) std::atomic<uint64_t> spans_exported{0};
  std::atomic<uint64_t> dropped[5] = {};
  std::atomic<uint64_t> export_batches{0};
  std::atomic<uint64_t> export_failures{0};
  std::atomic<uint64_t> export_retries{0};
  alignas(64) std::atomic<uint64_t> tail_kept{0};
  std::atomic<uint64_t> tail_dropped{0};
  std::atomic<uint64_t> tail_early{0};
  std::atomic<uint64_t> tail_spans_dropped{0};
};

Counters& Get() {
  static Counters* counters = new Counters();
  return *counters;
}

uint64_t Load(const std::atomic<uint64_t>& v) { return v.load(std::memory_order_relaxed); }

}  // namespace

TelemetryHealth ReadHealth() {
  const Counters& c = Get();
  TelemetryHealth h;
  h.spans_started = Load(c.spans_started);
  h.spans_ended = Load(c.spans_ended);
  h.spans_exported = Load(c.spans_exported);
  h.spans_dropped_queue_full = Load(c.dropped[static_cast<int>(DropReason::kQueueFull)]);
  h.spans_dropped_export_failed = Load(c.dropped[static_cast<int>(DropReason::kExportFailed)]);
  h.spans_dropped_shutdown = Load(c.dropped[static_cast<int>(DropReason::kShutdown)]);
  h.spans_dropped_rejected = Load(c.dropped[static_cast<int>(DropReason::kRejected)]);
  h.spans_dropped_too_large = Load(c.dropped[static_cast<int>(DropReason::kTooLarge)]);
  h.export_batches = Load(c.export_batches);
  h.export_failures = Load(c.export_failures);
  h.export_retries = Load(c.export_retries);
  h.tail_traces_kept = Load(c.tail_kept);
  h.tail_traces_dropped = Load(c.tail_dropped);
  h.tail_traces_decided_early = Load(c.tail_early);
  h.tail_spans_dropped = Load(c.tail_spans_dropped);
  return h;
}

void RecordSpanStarted() { Get().spans_started.fetch_add(1, std::memory_order_relaxed); }
void RecordSpanEnded() { Get().spans_ended.fetch_add(1, std::memory_order_relaxed); }
void RecordSpansExported(uint64_t count) {
  Get().spans_exported.fetch_add(count, std::memory_order_relaxed);
}
void RecordSpansDropped(DropReason reason, uint64_t count) {
  Get().dropped[static_cast<int>(reason)].fetch_add(count, std::memory_order_relaxed);
}
void RecordExportBatch(bool success) {
  Get().export_batches.fetch_add(1, std::memory_order_relaxed);
  if (!success) Get().export_failures.fetch_add(1, std::memory_order_relaxed);
}
void RecordExportRetry() { Get().export_retries.fetch_add(1, std::memory_order_relaxed); }
void RecordTailDecision(bool kept, bool early, uint64_t spans_dropped) {
  Counters& c = Get();
  (kept ? c.tail_kept : c.tail_dropped).fetch_add(1, std::memory_order_relaxed);
  if (early) c.tail_early.fetch_add(1, std::memory_order_relaxed);
  if (spans_dropped > 0) c.tail_spans_dropped.fetch_add(spans_dropped, std::memory_order_relaxed);
}
void RecordTailSpansDropped(uint64_t count) {
  Get().tail_spans_dropped.fetch_add(count, std::memory_order_relaxed);
}

}  // namespace lantern::telemetry
