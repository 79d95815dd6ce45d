#include "telemetry/batch_span_processor.h"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "base/log.h"
#include "telemetry/health.h"
#include "telemetry/span_context.h"
#include "telemetry/span_data_pool.h"
#include "telemetry/span_queue.h"

namespace lantern::telemetry {

using Clock = std::chrono::steady_clock;

// Shared by the processor object and its thread, so that a thread left running past a
// shutdown deadline never touches freed memory.
struct BatchSpanProcessor::State {
  State(std::unique_ptr<SpanExporter> e, BatchSpanProcessorOptions o)
      : options(o), exporter(std::move(e)), queue(o.max_queue_size) {}

  const BatchSpanProcessorOptions options;
  std::unique_ptr<SpanExporter> exporter;  // used by the exporter thread only
  SpanQueue queue;
  std::atomic<bool> wake_pending{false};
  std::atomic<bool> shut_down{false};

  std::mutex mu;
  std::condition_variable wake;      // to the exporter thread
  std::condition_variable progress;  // from the exporter thread
  uint64_t flush_requested = 0;      // guarded by mu
  uint64_t flush_done = 0;           // guarded by mu
  bool flush_succeeded = true;       // guarded by mu: result of the last flush
  bool stop = false;                 // guarded by mu
  bool exited = false;               // guarded by mu
  bool shutdown_result = false;      // guarded by mu

  void Wake() {
    std::lock_guard<std::mutex> lock(mu);
    wake.notify_one();
  }

  // Exports up to one batch; false when the queue was empty.
  bool ExportOneBatch(std::vector<std::unique_ptr<SpanData>>& batch) {
    batch.clear();
    while (batch.size() < options.max_export_batch_size) {
      std::unique_ptr<SpanData> span = queue.TryPop();
      if (span == nullptr) break;
      batch.push_back(std::move(span));
    }
    if (batch.empty()) return false;
    Clock::time_point started = Clock::now();
    bool ok = false;
    try {
      ok = exporter->Export(batch) == ExportResult::kSuccess;
    } catch (const std::exception& e) {
      // Exporters report failures by result; this keeps a faulty one from killing the
      // process from the exporter thread.
      LANTERN_LOG(kError, "telemetry") << "span exporter threw: " << e.what();
    }
    RecordExportBatch(ok);
    if (ok) {
      RecordSpansExported(batch.size());
    } else {
      RecordSpansDropped(DropReason::kExportFailed, batch.size());
    }
    if (Clock::now() - started > options.export_timeout) {
      LANTERN_LOG(kWarning, "telemetry") << "span export took longer than the export timeout ("
                                         << options.export_timeout.count() << " ms)";
    }
    // Cleared here, on this thread, and kept for the spans to come.
    for (std::unique_ptr<SpanData>& span : batch) RecycleSpanData(std::move(span));
    batch.clear();
    return true;
  }

  void LowerThreadPriority() const {
    if (options.thread_nice_increment <= 0) return;
    const id_t thread_id = static_cast<id_t>(gettid());
    errno = 0;
    int nice_value = getpriority(PRIO_PROCESS, thread_id);
    if (errno != 0) return;
    // Best effort: a failure leaves the thread at the process's priority.
    (void)setpriority(PRIO_PROCESS, thread_id,
                      std::min(19, nice_value + options.thread_nice_increment));
  }

  void Run() {
    pthread_setname_np(pthread_self(), "telemetry-bsp");
    LowerThreadPriority();
    std::vector<std::unique_ptr<SpanData>> batch;
    batch.reserve(options.max_export_batch_size);
    Clock::time_point next_export = Clock::now() + options.schedule_delay;
    while (true) {
      uint64_t flush_target;
      bool stopping;
      {
        std::unique_lock<std::mutex> lock(mu);
        wake.wait_until(lock, next_export, [&] {
          if (stop || flush_requested > flush_done ||
              queue.SizeApprox() >= options.max_export_batch_size) {
            return true;
          }
          // Re-arm the producers' wake-up every time this thread goes (back) to sleep. A
          // producer wakes it at every batch's worth of pushes, but pops are not aligned to
          // pushes (a flush or the timer exports partial batches), so a wake-up can find
          // less than a batch queued; a flag left set then would silence every later
          // wake-up until the timer while the queue overflows. Producers notify under `mu`,
          // so a wake-up after this store cannot be lost.
          wake_pending.store(false, std::memory_order_relaxed);
          return false;
        });
        flush_target = flush_requested;
        stopping = stop;
      }
      bool flushing = stopping || flush_target > flush_done_snapshot_;
      bool timer_expired = Clock::now() >= next_export;
      if (flushing || timer_expired) {
        // Everything queued before the request (or the timer) goes out.
        while (ExportOneBatch(batch)) {
        }
        next_export = Clock::now() + options.schedule_delay;
      } else {
        // Full batches only; the remainder waits for the timer.
        while (queue.SizeApprox() >= options.max_export_batch_size && ExportOneBatch(batch)) {
        }
      }
      if (flushing) {
        bool ok = stopping ? exporter->Shutdown(options.export_timeout)
                           : exporter->ForceFlush(options.export_timeout);
        std::lock_guard<std::mutex> lock(mu);
        flush_done = flush_done_snapshot_ = flush_target;
        flush_succeeded = ok;
        if (stopping) {
          shutdown_result = ok;
          exited = true;
        }
        progress.notify_all();
        if (stopping) return;
      }
    }
  }

  uint64_t flush_done_snapshot_ = 0;  // exporter thread's copy of flush_done
};

BatchSpanProcessorOptions BatchSpanProcessorOptionsFromEnv(const EnvLookup& env) {
  BatchSpanProcessorOptions options;
  ReadBatchProcessorEnv(env,
                        {.schedule_delay = "OTEL_BSP_SCHEDULE_DELAY",
                         .export_timeout = "OTEL_BSP_EXPORT_TIMEOUT",
                         .max_queue_size = "OTEL_BSP_MAX_QUEUE_SIZE",
                         .max_export_batch_size = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"},
                        &options.schedule_delay, &options.export_timeout, &options.max_queue_size,
                        &options.max_export_batch_size);
  return options;
}

BatchSpanProcessor::BatchSpanProcessor(std::unique_ptr<SpanExporter> exporter,
                                       BatchSpanProcessorOptions options) {
  options.max_queue_size = std::max<size_t>(options.max_queue_size, 1);
  options.max_export_batch_size =
      std::clamp<size_t>(options.max_export_batch_size, 1, options.max_queue_size);
  state_ = std::make_shared<State>(std::move(exporter), options);
  std::thread([state = state_] { state->Run(); }).detach();
}

BatchSpanProcessor::~BatchSpanProcessor() {
  Shutdown(std::chrono::duration_cast<std::chrono::microseconds>(state_->options.export_timeout));
}

const BatchSpanProcessorOptions& BatchSpanProcessor::options() const { return state_->options; }

void BatchSpanProcessor::OnEnd(std::unique_ptr<SpanData> span) {
  if ((span->flags & kTraceFlagSampled) == 0) return RecycleSpanData(std::move(span));
  State& s = *state_;
  if (s.shut_down.load(std::memory_order_relaxed)) {
    RecordSpansDropped(DropReason::kShutdown, 1);
    return RecycleSpanData(std::move(span));
  }
  uint64_t position = 0;
  if (!s.queue.TryPush(span, &position)) {
    RecordSpansDropped(DropReason::kQueueFull, 1);
    return RecycleSpanData(std::move(span));
  }
  // Wake the exporter once per batch's worth of spans, not once per span. Counting pushes
  // (rather than reading the queue's size) keeps the exporter's cache line out of End().
  if ((position + 1) % s.options.max_export_batch_size == 0 &&
      !s.wake_pending.load(std::memory_order_relaxed) &&
      !s.wake_pending.exchange(true, std::memory_order_relaxed)) {
    s.Wake();
  }
}

bool BatchSpanProcessor::ForceFlush(std::chrono::microseconds timeout) {
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

bool BatchSpanProcessor::Shutdown(std::chrono::microseconds timeout) {
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

}  // namespace lantern::telemetry
