// The batch log record processor: records go into a bounded queue; one exporter thread
// ("telemetry-blrp") sends them in batches when a batch is full or the schedule delay
// passes. Emitting never waits on the network or on an export in progress (the queue's
// lock is held for a push or a pop only): a full queue drops the record and counts it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "telemetry/env.h"
#include "telemetry/log_exporter.h"

namespace lantern::telemetry {

struct BatchLogProcessorOptions {
  std::chrono::milliseconds schedule_delay{1000};   // OTEL_BLRP_SCHEDULE_DELAY
  std::chrono::milliseconds export_timeout{30000};  // OTEL_BLRP_EXPORT_TIMEOUT
  size_t max_queue_size = 2048;                     // OTEL_BLRP_MAX_QUEUE_SIZE
  size_t max_export_batch_size = 512;  // OTEL_BLRP_MAX_EXPORT_BATCH_SIZE (<= queue size)
};

// The specification's defaults overridden by the OTEL_BLRP_* variables; zero sizes warn
// and are ignored; a batch size above the queue size is clamped to it.
BatchLogProcessorOptions BatchLogProcessorOptionsFromEnv(const EnvLookup& env);

struct LogProcessorStats {
  uint64_t emitted = 0;                // records offered to the processor
  uint64_t exported = 0;               // in batches the exporter reported delivered
  uint64_t dropped_queue_full = 0;     // the queue was full
  uint64_t dropped_export_failed = 0;  // the exporter gave up on their batch
  uint64_t dropped_shutdown = 0;       // emitted after shutdown
  uint64_t dropped() const { return dropped_queue_full + dropped_export_failed + dropped_shutdown; }
};

class BatchLogProcessor {
 public:
  // Starts the exporter thread.
  BatchLogProcessor(std::unique_ptr<LogRecordExporter> exporter, BatchLogProcessorOptions options);
  // Shuts down (with the export timeout as deadline) if not done yet.
  ~BatchLogProcessor();
  BatchLogProcessor(const BatchLogProcessor&) = delete;
  BatchLogProcessor& operator=(const BatchLogProcessor&) = delete;

  // Never blocks on the exporter: queues the record, or drops and counts it.
  void OnEmit(std::unique_ptr<LogRecordData> record);
  // Exports everything queued before the call; false at the deadline or on a failure.
  bool ForceFlush(std::chrono::microseconds timeout);
  // Exports what is queued, shuts the exporter down and stops the thread, all within
  // `timeout`; past it the thread finishes on its own (it owns its state) and false is
  // returned. Later records are dropped (counted as dropped_shutdown).
  bool Shutdown(std::chrono::microseconds timeout);

  LogProcessorStats stats() const;
  const BatchLogProcessorOptions& options() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// True on a log processor's exporter thread: what the exporter logs there is not fed
// back into the logs pipeline (a collector that is down would otherwise be told so by a
// record that cannot reach it, and so on).
bool OnLogExportThread();

}  // namespace lantern::telemetry
