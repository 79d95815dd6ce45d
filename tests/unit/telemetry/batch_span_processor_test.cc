// The batch span processor with real threads: batching, dropping when full, flush and
// shutdown deadlines with a stuck exporter, and End() never waiting on the exporter.
#include "telemetry/batch_span_processor.h"

#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "in_memory_exporter.h"
#include "telemetry/health.h"
#include "telemetry/span_context.h"
#include "telemetry/span_queue.h"
#include "test_env.h"

namespace lantern::telemetry {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::unique_ptr<SpanData> SampledSpan(int64_t n = 0) {
  auto span = std::make_unique<SpanData>();
  span->flags = kTraceFlagSampled;
  span->start_time_unix_nano = n;
  return span;
}

// An exporter that blocks in Export until released: a collector that hangs.
class StuckExporter : public SpanExporter {
 public:
  struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    int entered = 0;
    size_t exported = 0;
  };
  explicit StuckExporter(std::shared_ptr<Gate> gate) : gate_(std::move(gate)) {}
  ExportResult Export(std::span<const std::unique_ptr<SpanData>> spans) override {
    std::unique_lock<std::mutex> lock(gate_->mu);
    ++gate_->entered;
    gate_->cv.notify_all();
    gate_->cv.wait(lock, [&] { return gate_->open; });
    gate_->exported += spans.size();
    return ExportResult::kSuccess;
  }

 private:
  std::shared_ptr<Gate> gate_;
};

void WaitEntered(StuckExporter::Gate& gate, int n) {
  std::unique_lock<std::mutex> lock(gate.mu);
  gate.cv.wait(lock, [&] { return gate.entered >= n; });
}

void Open(StuckExporter::Gate& gate) {
  std::lock_guard<std::mutex> lock(gate.mu);
  gate.open = true;
  gate.cv.notify_all();
}

TEST(SpanQueue, ExactCapacityAndFifo) {
  for (size_t capacity : {2u, 3u, 8u}) {
    SpanQueue queue(capacity);
    for (size_t i = 0; i < capacity; ++i) {
      auto span = SampledSpan(static_cast<int64_t>(i));
      ASSERT_TRUE(queue.TryPush(span));
    }
    auto extra = SampledSpan();
    EXPECT_FALSE(queue.TryPush(extra));
    EXPECT_NE(extra, nullptr);  // left with the caller
    EXPECT_EQ(queue.SizeApprox(), capacity);
    for (size_t i = 0; i < capacity; ++i) {
      auto span = queue.TryPop();
      ASSERT_NE(span, nullptr);
      EXPECT_EQ(span->start_time_unix_nano, static_cast<int64_t>(i));
    }
    EXPECT_EQ(queue.TryPop(), nullptr);
  }
}

TEST(SpanQueue, ManyProducersOneConsumerLoseNothing) {
  SpanQueue queue(64);
  constexpr int kThreads = 4, kPerThread = 5000;
  std::atomic<int> done{0};
  std::vector<std::thread> producers;
  for (int t = 0; t < kThreads; ++t) {
    producers.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        auto span = SampledSpan();
        while (!queue.TryPush(span)) std::this_thread::yield();
      }
      done.fetch_add(1);
    });
  }
  int popped = 0;
  while (popped < kThreads * kPerThread) {
    if (queue.TryPop() != nullptr) {
      ++popped;
    } else {
      std::this_thread::yield();
    }
  }
  for (auto& t : producers) t.join();
  EXPECT_EQ(popped, kThreads * kPerThread);
  EXPECT_EQ(queue.TryPop(), nullptr);
}

TEST(BatchSpanProcessor, ExportsFullBatchesWithoutWaitingForTheTimer) {
  auto store = std::make_shared<InMemoryExporter::Store>();
  BatchSpanProcessor bsp(
      std::make_unique<InMemoryExporter>(store),
      {.schedule_delay = seconds(3600), .max_queue_size = 100, .max_export_batch_size = 10});
  for (int i = 0; i < 30; ++i) bsp.OnEnd(SampledSpan(i));
  // Three full batches go out on their own (the hour-long timer never fires).
  while (true) {
    std::lock_guard<std::mutex> lock(store->mu);
    if (store->spans.size() == 30) break;
  }
  std::lock_guard<std::mutex> lock(store->mu);
  for (size_t size : store->batch_sizes) EXPECT_LE(size, 10u);
  for (int i = 0; i < 30; ++i) EXPECT_EQ(store->spans[i].start_time_unix_nano, i);  // order kept
}

// A flush leaves the producers' push count out of step with the queue: the first wake-up
// then finds less than a batch queued. The exporter must still answer the next ones (it
// once went back to sleep with its wake-up disarmed, exported nothing until the timer, and
// dropped spans under load).
TEST(BatchSpanProcessor, KeepsExportingFullBatchesAfterAFlush) {
  auto store = std::make_shared<InMemoryExporter::Store>();
  TelemetryHealth before = ReadHealth();
  BatchSpanProcessor bsp(
      std::make_unique<InMemoryExporter>(store),
      {.schedule_delay = seconds(3600), .max_queue_size = 100, .max_export_batch_size = 10});
  for (int i = 0; i < 7; ++i) bsp.OnEnd(SampledSpan(i));
  ASSERT_TRUE(bsp.ForceFlush(std::chrono::duration_cast<std::chrono::microseconds>(seconds(10))));
  constexpr int kTotal = 7 + 60;
  for (int i = 7; i < kTotal; ++i) {
    bsp.OnEnd(SampledSpan(i));
    // One span at a time, each after the exporter has had the chance to catch up, so a
    // missed wake-up cannot be hidden by a later one finding two batches queued.
    if ((i + 1) % 10 == 0) std::this_thread::sleep_for(milliseconds(20));
  }
  // At most two batches' worth may wait for the (hour-long) timer. A generous deadline
  // only keeps a regression from hanging the suite.
  auto deadline = std::chrono::steady_clock::now() + seconds(60);
  size_t exported = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> lock(store->mu);
      exported = store->spans.size();
    }
    if (exported + 20 >= kTotal) break;
    std::this_thread::sleep_for(milliseconds(5));
  }
  EXPECT_GE(exported + 20, static_cast<size_t>(kTotal));
  EXPECT_EQ(ReadHealth().spans_dropped_queue_full, before.spans_dropped_queue_full);
}

// Export is background work: the exporter thread runs at a lower priority than the threads
// that serve requests, unless told not to.
class NiceRecordingExporter : public SpanExporter {
 public:
  explicit NiceRecordingExporter(std::atomic<int>* nice) : nice_(nice) {}
  ExportResult Export(std::span<const std::unique_ptr<SpanData>>) override {
    errno = 0;
    int value = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
    nice_->store(errno == 0 ? value : -100);
    return ExportResult::kSuccess;
  }

 private:
  std::atomic<int>* nice_;
};

TEST(BatchSpanProcessor, ExporterThreadRunsAtALowerPriority) {
  errno = 0;
  const int own = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
  ASSERT_EQ(errno, 0);
  for (int increment : {10, 0}) {
    std::atomic<int> nice{-1000};
    BatchSpanProcessorOptions options;
    options.thread_nice_increment = increment;
    {
      BatchSpanProcessor bsp(std::make_unique<NiceRecordingExporter>(&nice), options);
      bsp.OnEnd(SampledSpan());
      ASSERT_TRUE(bsp.ForceFlush(std::chrono::seconds(10)));
    }
    EXPECT_EQ(nice.load(), std::min(19, own + increment)) << "increment " << increment;
  }
}

TEST(BatchSpanProcessor, ScheduleDelayExportsPartialBatches) {
  auto store = std::make_shared<InMemoryExporter::Store>();
  BatchSpanProcessor bsp(std::make_unique<InMemoryExporter>(store),
                         {.schedule_delay = milliseconds(1), .max_export_batch_size = 512});
  bsp.OnEnd(SampledSpan());
  while (true) {
    std::lock_guard<std::mutex> lock(store->mu);
    if (store->spans.size() == 1) break;
  }
}

TEST(BatchSpanProcessor, UnsampledSpansAreNotExported) {
  auto store = std::make_shared<InMemoryExporter::Store>();
  BatchSpanProcessor bsp(std::make_unique<InMemoryExporter>(store), {});
  auto span = SampledSpan();
  span->flags = 0;
  bsp.OnEnd(std::move(span));
  EXPECT_TRUE(bsp.ForceFlush(seconds(10)));
  std::lock_guard<std::mutex> lock(store->mu);
  EXPECT_TRUE(store->spans.empty());
}

TEST(BatchSpanProcessor, ForceFlushExportsEverythingAndFlushesTheExporter) {
  auto store = std::make_shared<InMemoryExporter::Store>();
  BatchSpanProcessor bsp(std::make_unique<InMemoryExporter>(store),
                         {.schedule_delay = seconds(3600), .max_export_batch_size = 4});
  for (int i = 0; i < 10; ++i) bsp.OnEnd(SampledSpan(i));
  EXPECT_TRUE(bsp.ForceFlush(seconds(30)));
  std::lock_guard<std::mutex> lock(store->mu);
  EXPECT_EQ(store->spans.size(), 10u);
  EXPECT_EQ(store->flushes, 1);
  for (size_t size : store->batch_sizes) EXPECT_LE(size, 4u);
}

TEST(BatchSpanProcessor, FullQueueDropsAndCountsWithoutBlocking) {
  auto gate = std::make_shared<StuckExporter::Gate>();
  BatchSpanProcessor bsp(
      std::make_unique<StuckExporter>(gate),
      {.schedule_delay = seconds(3600), .max_queue_size = 8, .max_export_batch_size = 4});
  for (int i = 0; i < 4; ++i) bsp.OnEnd(SampledSpan());
  WaitEntered(*gate, 1);  // the exporter thread now holds one batch, stuck
  TelemetryHealth before = ReadHealth();
  // The queue takes 8 more; the other 12 are dropped. None of these calls may wait for
  // the stuck exporter: if one did, this test would never get to Open() below.
  for (int i = 0; i < 20; ++i) bsp.OnEnd(SampledSpan());
  TelemetryHealth after = ReadHealth();
  EXPECT_EQ(after.spans_dropped_queue_full - before.spans_dropped_queue_full, 12u);
  Open(*gate);
  EXPECT_TRUE(bsp.Shutdown(seconds(30)));
  std::lock_guard<std::mutex> lock(gate->mu);
  EXPECT_EQ(gate->exported, 12u);
}

TEST(BatchSpanProcessor, FlushAndShutdownHonourTheirDeadlines) {
  auto gate = std::make_shared<StuckExporter::Gate>();
  auto bsp = std::make_unique<BatchSpanProcessor>(
      std::make_unique<StuckExporter>(gate),
      BatchSpanProcessorOptions{.schedule_delay = seconds(3600),
                                .export_timeout = seconds(1),
                                .max_export_batch_size = 1});
  bsp->OnEnd(SampledSpan());
  WaitEntered(*gate, 1);
  EXPECT_FALSE(bsp->ForceFlush(milliseconds(20)));  // the exporter is stuck
  EXPECT_FALSE(bsp->Shutdown(milliseconds(20)));
  // Ended after shutdown: dropped and counted, not queued.
  TelemetryHealth before = ReadHealth();
  bsp->OnEnd(SampledSpan());
  EXPECT_EQ(ReadHealth().spans_dropped_shutdown - before.spans_dropped_shutdown, 1u);
  bsp.reset();  // the processor goes away while its thread is still stuck: must be safe
  Open(*gate);  // the thread finishes on its own state
}

TEST(BatchSpanProcessor, ShutdownIsIdempotentAndShutsTheExporterDownOnce) {
  auto store = std::make_shared<InMemoryExporter::Store>();
  BatchSpanProcessor bsp(std::make_unique<InMemoryExporter>(store), {});
  bsp.OnEnd(SampledSpan());
  EXPECT_TRUE(bsp.Shutdown(seconds(30)));
  EXPECT_TRUE(bsp.Shutdown(seconds(30)));
  EXPECT_TRUE(bsp.ForceFlush(seconds(1)));
  std::lock_guard<std::mutex> lock(store->mu);
  EXPECT_EQ(store->spans.size(), 1u);  // queued spans go out before shutdown
  EXPECT_EQ(store->shutdowns, 1);
}

TEST(BatchSpanProcessor, ManyThreadsEndingSpans) {
  auto store = std::make_shared<InMemoryExporter::Store>();
  BatchSpanProcessor bsp(
      std::make_unique<InMemoryExporter>(store),
      {.schedule_delay = milliseconds(5), .max_queue_size = 100000, .max_export_batch_size = 64});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) bsp.OnEnd(SampledSpan());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(bsp.Shutdown(seconds(30)));
  std::lock_guard<std::mutex> lock(store->mu);
  EXPECT_EQ(store->spans.size(), 8000u);
}

TEST(BatchSpanProcessor, OptionsFromEnvironment) {
  BatchSpanProcessorOptions d = BatchSpanProcessorOptionsFromEnv(MapEnv({}));
  EXPECT_EQ(d.schedule_delay, milliseconds(5000));
  EXPECT_EQ(d.export_timeout, milliseconds(30000));
  EXPECT_EQ(d.max_queue_size, 2048u);
  EXPECT_EQ(d.max_export_batch_size, 512u);
  BatchSpanProcessorOptions o =
      BatchSpanProcessorOptionsFromEnv(MapEnv({{"OTEL_BSP_SCHEDULE_DELAY", "100"},
                                               {"OTEL_BSP_EXPORT_TIMEOUT", " 250 "},
                                               {"OTEL_BSP_MAX_QUEUE_SIZE", "64"},
                                               {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "128"}}));
  EXPECT_EQ(o.schedule_delay, milliseconds(100));
  EXPECT_EQ(o.export_timeout, milliseconds(250));
  EXPECT_EQ(o.max_queue_size, 64u);
  EXPECT_EQ(o.max_export_batch_size, 64u);  // clamped to the queue size
  BatchSpanProcessorOptions bad =
      BatchSpanProcessorOptionsFromEnv(MapEnv({{"OTEL_BSP_SCHEDULE_DELAY", "-5"},
                                               {"OTEL_BSP_EXPORT_TIMEOUT", "1s"},
                                               {"OTEL_BSP_MAX_QUEUE_SIZE", "0"},
                                               {"OTEL_BSP_MAX_EXPORT_BATCH_SIZE", ""}}));
  EXPECT_EQ(bad.schedule_delay, milliseconds(5000));
  EXPECT_EQ(bad.export_timeout, milliseconds(30000));
  EXPECT_EQ(bad.max_queue_size, 2048u);
  EXPECT_EQ(bad.max_export_batch_size, 512u);
}

}  // namespace
}  // namespace lantern::telemetry
