#include "telemetry/batch_log_processor.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "base/log.h"

namespace lantern::telemetry {
namespace {

using Clock = std::chrono::steady_clock;
thread_local bool t_log_export_thread = false;

}  // namespace

bool OnLogExportThread() { return t_log_export_thread; }

// Shared by the processor and its thread, so that a thread left running past a shutdown
// deadline never touches freed memory.
struct BatchLogProcessor::State {
  State(std::unique_ptr<LogRecordExporter> e, BatchLogProcessorOptions o)
      : options(o), exporter(std::move(e)) {}

  const BatchLogProcessorOptions options;
  std::unique_ptr<LogRecordExporter> exporter;  // used by the exporter thread only
  std::atomic<bool> shut_down{false};
  struct {
    std::atomic<uint64_t> emitted{0}, exported{0}, queue_full{0}, export_failed{0}, shutdown{0};
  } counts;

  std::mutex mu;
  std::condition_variable wake;                      // to the exporter thread
  std::condition_variable progress;                  // from the exporter thread
  std::deque<std::unique_ptr<LogRecordData>> queue;  // guarded by mu
  bool wake_pending = false;                         // guarded by mu
  uint64_t flush_requested = 0;                      // guarded by mu
  uint64_t flush_done = 0;                           // guarded by mu
  bool flush_succeeded = true;                       // guarded by mu
  bool stop = false;                                 // guarded by mu
  bool exited = false;                               // guarded by mu
  bool shutdown_result = false;                      // guarded by mu

  // Pops up to one batch and exports it with `mu` released; false when the queue was empty.
  bool ExportOneBatch(std::unique_lock<std::mutex>& lock,
                      std::vector<std::unique_ptr<LogRecordData>>& batch) {
    batch.clear();
    while (!queue.empty() && batch.size() < options.max_export_batch_size) {
      batch.push_back(std::move(queue.front()));
      queue.pop_front();
    }
    if (batch.empty()) return false;
    lock.unlock();
    bool ok = false;
    try {
      ok = exporter->Export(batch) == ExportResult::kSuccess;
    } catch (const std::exception& e) {
      LANTERN_LOG(kError, "telemetry") << "log exporter threw: " << e.what();
    }
    (ok ? counts.exported : counts.export_failed)
        .fetch_add(batch.size(), std::memory_order_relaxed);
    batch.clear();
    lock.lock();
    return true;
  }

  void Run() {
    pthread_setname_np(pthread_self(), "telemetry-blrp");
    t_log_export_thread = true;
    std::vector<std::unique_ptr<LogRecordData>> batch;
    batch.reserve(options.max_export_batch_size);
    Clock::time_point next_export = Clock::now() + options.schedule_delay;
    std::unique_lock<std::mutex> lock(mu);
    while (true) {
      wake.wait_until(lock, next_export, [&] {
        return stop || flush_requested > flush_done ||
               queue.size() >= options.max_export_batch_size;
      });
      wake_pending = false;
      const uint64_t flush_target = flush_requested;
      const bool stopping = stop;
      const bool flushing = stopping || flush_target > flush_done;
      const uint64_t failed_before = counts.export_failed.load(std::memory_order_relaxed);
      if (flushing || Clock::now() >= next_export) {
        // Everything queued before the request (or the timer) goes out.
        while (ExportOneBatch(lock, batch)) {
        }
        next_export = Clock::now() + options.schedule_delay;
      } else {
        while (queue.size() >= options.max_export_batch_size && ExportOneBatch(lock, batch)) {
        }
      }
      if (!flushing) continue;
      bool ok = counts.export_failed.load(std::memory_order_relaxed) == failed_before;
      if (stopping) {
        lock.unlock();
        ok = exporter->Shutdown(options.export_timeout) && ok;
        lock.lock();
        shutdown_result = ok;
        exited = true;
      }
      flush_done = flush_target;
      flush_succeeded = ok;
      progress.notify_all();
      if (stopping) return;
    }
  }
};

BatchLogProcessorOptions BatchLogProcessorOptionsFromEnv(const EnvLookup& env) {
  BatchLogProcessorOptions options;
  ReadBatchProcessorEnv(env,
                        {.schedule_delay = "OTEL_BLRP_SCHEDULE_DELAY",
                         .export_timeout = "OTEL_BLRP_EXPORT_TIMEOUT",
                         .max_queue_size = "OTEL_BLRP_MAX_QUEUE_SIZE",
                         .max_export_batch_size = "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE"},
                        &options.schedule_delay, &options.export_timeout, &options.max_queue_size,
                        &options.max_export_batch_size);
  return options;
}

BatchLogProcessor::BatchLogProcessor(std::unique_ptr<LogRecordExporter> exporter,
                                     BatchLogProcessorOptions options) {
  options.max_queue_size = std::max<size_t>(options.max_queue_size, 1);
  options.max_export_batch_size =
      std::clamp<size_t>(options.max_export_batch_size, 1, options.max_queue_size);
  state_ = std::make_shared<State>(std::move(exporter), options);
  std::thread([state = state_] { state->Run(); }).detach();
}

BatchLogProcessor::~BatchLogProcessor() {
  Shutdown(std::chrono::duration_cast<std::chrono::microseconds>(state_->options.export_timeout));
}

const BatchLogProcessorOptions& BatchLogProcessor::options() const { return state_->options; }

void BatchLogProcessor::OnEmit(std::unique_ptr<LogRecordData> record) {
  State& s = *state_;
  s.counts.emitted.fetch_add(1, std::memory_order_relaxed);
  if (s.shut_down.load(std::memory_order_relaxed)) {
    s.counts.shutdown.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.queue.size() >= s.options.max_queue_size) {
      s.counts.queue_full.fetch_add(1, std::memory_order_relaxed);
      return;  // the record is freed after the lock is released
    }
    s.queue.push_back(std::move(record));
    if (s.queue.size() >= s.options.max_export_batch_size && !s.wake_pending) {
      s.wake_pending = wake = true;
    }
  }
  if (wake) s.wake.notify_one();
}

bool BatchLogProcessor::ForceFlush(std::chrono::microseconds timeout) {
  State& s = *state_;
  Clock::time_point deadline = Clock::now() + timeout;
  std::unique_lock<std::mutex> lock(s.mu);
  if (s.exited) return true;
  uint64_t target = ++s.flush_requested;
  s.wake.notify_one();
  if (!s.progress.wait_until(lock, deadline, [&] { return s.flush_done >= target || s.exited; })) {
    return false;
  }
  return s.flush_succeeded;
}

bool BatchLogProcessor::Shutdown(std::chrono::microseconds timeout) {
  State& s = *state_;
  Clock::time_point deadline = Clock::now() + timeout;
  s.shut_down.store(true, std::memory_order_relaxed);
  std::unique_lock<std::mutex> lock(s.mu);
  if (!s.stop) {
    s.stop = true;
    ++s.flush_requested;
    s.wake.notify_one();
  }
  if (!s.progress.wait_until(lock, deadline, [&] { return s.exited; })) return false;
  return s.shutdown_result;
}

LogProcessorStats BatchLogProcessor::stats() const {
  const State& s = *state_;
  LogProcessorStats stats;
  stats.emitted = s.counts.emitted.load(std::memory_order_relaxed);
  stats.exported = s.counts.exported.load(std::memory_order_relaxed);
  stats.dropped_queue_full = s.counts.queue_full.load(std::memory_order_relaxed);
  stats.dropped_export_failed = s.counts.export_failed.load(std::memory_order_relaxed);
  stats.dropped_shutdown = s.counts.shutdown.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace lantern::telemetry
