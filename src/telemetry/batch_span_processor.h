// The batch span processor: ended spans go into a bounded lock-free queue; one exporter
// thread ("telemetry-bsp") sends them in batches when a batch is full or the schedule
// delay passes. Ending a span never blocks, never allocates beyond the queue's fixed
// slots, and never waits on the network: a full queue drops the span and counts it.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include "telemetry/env.h"
#include "telemetry/span_processor.h"

namespace lantern::telemetry {

struct BatchSpanProcessorOptions {
  std::chrono::milliseconds schedule_delay{5000};   // OTEL_BSP_SCHEDULE_DELAY
  std::chrono::milliseconds export_timeout{30000};  // OTEL_BSP_EXPORT_TIMEOUT
  size_t max_queue_size = 2048;                     // OTEL_BSP_MAX_QUEUE_SIZE
  size_t max_export_batch_size = 512;  // OTEL_BSP_MAX_EXPORT_BATCH_SIZE (<= queue size)
  // Added to the exporter thread's nice value (Linux schedules threads one by one). Export
  // is background work: on a busy machine the threads serving requests should get the CPU
  // first, and at +10 the exporter still gets about a tenth of a contended core, far more
  // than it needs. 0 keeps the process's priority.
  int thread_nice_increment = 10;
};

// The spec's defaults overridden by the OTEL_BSP_* variables; zero sizes warn and are
// ignored; a batch size above the queue size is clamped to it.
BatchSpanProcessorOptions BatchSpanProcessorOptionsFromEnv(const EnvLookup& env);

class BatchSpanProcessor : public SpanProcessor {
 public:
  // Starts the exporter thread.
  BatchSpanProcessor(std::unique_ptr<SpanExporter> exporter, BatchSpanProcessorOptions options);
  // Shuts down (with the export timeout as deadline) if not done yet.
  ~BatchSpanProcessor() override;

  void OnEnd(std::unique_ptr<SpanData> span) override;
  bool ForceFlush(std::chrono::microseconds timeout) override;
  // Exports what is queued, shuts the exporter down and stops the thread, all within
  // `timeout`. If the exporter is still busy at the deadline, the thread is left to
  // finish on its own (it owns its state) and false is returned.
  bool Shutdown(std::chrono::microseconds timeout) override;

  const BatchSpanProcessorOptions& options() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace lantern::telemetry
