#include "telemetry/metric_reader.h"

#include <pthread.h>

#include <algorithm>

namespace lantern::telemetry {

PeriodicMetricReader::PeriodicMetricReader(MeterProvider* provider,
                                           std::unique_ptr<MetricExporter> exporter,
                                           PeriodicReaderOptions options)
    : provider_(provider), exporter_(std::move(exporter)), options_(options) {
  thread_ = std::thread([this] { Run(); });
}

PeriodicMetricReader::~PeriodicMetricReader() { Shutdown(std::chrono::seconds(1)); }

void PeriodicMetricReader::CollectAndExport() {
  ResourceMetrics metrics = provider_->Collect();
  ExportResult result = ExportResult::kSuccess;
  if (metrics.PointCount() > 0) result = exporter_->Export(metrics);
  std::lock_guard lock(mutex_);
  ++stats_.collections;
  if (result != ExportResult::kSuccess) ++stats_.exports_failed;
}

void PeriodicMetricReader::Run() {
  // Linux keeps at most 15 characters: "telemetry-metric" would fail and leave it unnamed.
  pthread_setname_np(pthread_self(), "telemetry-pmr");
  auto next = std::chrono::steady_clock::now() + options_.interval;
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait_until(lock, next, [this] { return stop_ || flush_requested_ > flush_completed_; });
    if (stop_) break;
    const uint64_t flush = flush_requested_;
    lock.unlock();
    CollectAndExport();
    lock.lock();
    if (flush > flush_completed_) {
      flush_completed_ = flush;
      done_.notify_all();
    } else {
      next = std::chrono::steady_clock::now() + options_.interval;
    }
  }
}

bool PeriodicMetricReader::ForceFlush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  if (stop_) return false;
  const uint64_t ticket = ++flush_requested_;
  wake_.notify_all();
  return done_.wait_for(lock, timeout, [&] { return flush_completed_ >= ticket || stop_; }) &&
         flush_completed_ >= ticket;
}

bool PeriodicMetricReader::Shutdown(std::chrono::milliseconds timeout) {
  {
    std::lock_guard lock(mutex_);
    if (shut_down_) return true;
    shut_down_ = true;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool flushed = ForceFlush(timeout);
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  done_.notify_all();
  // An export still running past the deadline is aborted by the exporter's Shutdown.
  auto left = std::chrono::duration_cast<std::chrono::microseconds>(
      deadline - std::chrono::steady_clock::now());
  bool exporter_done = exporter_->Shutdown(std::max(left, std::chrono::microseconds(0)));
  if (thread_.joinable()) thread_.join();
  return flushed && exporter_done;
}

PeriodicReaderStats PeriodicMetricReader::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace lantern::telemetry
