// Metric exporters and the periodic reader: one thread collects the provider every
// interval (OTEL_METRIC_EXPORT_INTERVAL) and hands the snapshot to the exporter, which may
// block up to its own timeout (OTEL_METRIC_EXPORT_TIMEOUT) there. Nothing on the request
// path waits for it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

#include "telemetry/exporter.h"
#include "telemetry/meter_provider.h"
#include "telemetry/metric_data.h"

namespace lantern::telemetry {

class MetricExporter {
 public:
  virtual ~MetricExporter() = default;
  // Sends one collection; returns when delivered, refused, or its timeout has passed.
  // Called from one thread at a time.
  virtual ExportResult Export(const ResourceMetrics& metrics) = 0;
  // After Shutdown, Export returns kFailure at once. Idempotent.
  virtual bool Shutdown(std::chrono::microseconds timeout) { return true; }
};

struct PeriodicReaderOptions {
  std::chrono::milliseconds interval{60000};  // the specification's defaults
  std::chrono::milliseconds timeout{30000};
};

// What the reader did, for tests and logs.
struct PeriodicReaderStats {
  uint64_t collections = 0;
  uint64_t exports_failed = 0;
};

class PeriodicMetricReader {
 public:
  // `provider` must outlive the reader.
  PeriodicMetricReader(MeterProvider* provider, std::unique_ptr<MetricExporter> exporter,
                       PeriodicReaderOptions options = {});
  ~PeriodicMetricReader();
  PeriodicMetricReader(const PeriodicMetricReader&) = delete;
  PeriodicMetricReader& operator=(const PeriodicMetricReader&) = delete;

  // Collects and exports now; waits up to `timeout` for that export.
  bool ForceFlush(std::chrono::milliseconds timeout);
  // A last collection and export, then stops the thread and the exporter. Idempotent.
  bool Shutdown(std::chrono::milliseconds timeout);
  PeriodicReaderStats stats() const;

 private:
  void Run();
  void CollectAndExport();

  MeterProvider* provider_;
  std::unique_ptr<MetricExporter> exporter_;
  const PeriodicReaderOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  bool stop_ = false;             // guarded by mutex_
  uint64_t flush_requested_ = 0;  // guarded by mutex_
  uint64_t flush_completed_ = 0;  // guarded by mutex_
  PeriodicReaderStats stats_;     // guarded by mutex_
  bool shut_down_ = false;        // guarded by mutex_
  std::thread thread_;
};

}  // namespace lantern::telemetry
