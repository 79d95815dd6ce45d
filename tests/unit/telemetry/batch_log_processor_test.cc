// The batch log record processor with real threads: bounded (a hung collector makes it
// drop and count, never block the writer), batches no larger than asked, flush and
// shutdown, and the OTEL_BLRP_* variables.
#include "telemetry/batch_log_processor.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "test_env.h"

namespace lantern::telemetry {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::unique_ptr<LogRecordData> Record(int n) {
  auto record = std::make_unique<LogRecordData>();
  record->body = "record " + std::to_string(n);
  return record;
}

// Records what it gets; blocks in Export while the gate is closed (a collector that hangs).
struct Sink {
  std::mutex mu;
  std::condition_variable cv;
  bool open = true;
  int entered = 0;
  std::vector<std::string> bodies;
  std::vector<size_t> batch_sizes;
  bool fail = false;
};

class GatedExporter : public LogRecordExporter {
 public:
  explicit GatedExporter(std::shared_ptr<Sink> sink) : sink_(std::move(sink)) {}
  ExportResult Export(std::span<const std::unique_ptr<LogRecordData>> records) override {
    std::unique_lock<std::mutex> lock(sink_->mu);
    ++sink_->entered;
    sink_->cv.notify_all();
    sink_->cv.wait(lock, [&] { return sink_->open; });
    sink_->batch_sizes.push_back(records.size());
    for (const auto& r : records) sink_->bodies.push_back(r->body);
    return sink_->fail ? ExportResult::kFailure : ExportResult::kSuccess;
  }

 private:
  std::shared_ptr<Sink> sink_;
};

BatchLogProcessorOptions Options(size_t queue, size_t batch, milliseconds delay = seconds(60)) {
  BatchLogProcessorOptions options;
  options.max_queue_size = queue;
  options.max_export_batch_size = batch;
  options.schedule_delay = delay;
  options.export_timeout = seconds(5);
  return options;
}

TEST(BatchLogProcessorTest, ExportsEverythingInBatchesNoLargerThanAsked) {
  auto sink = std::make_shared<Sink>();
  BatchLogProcessor processor(std::make_unique<GatedExporter>(sink), Options(100, 4));
  for (int i = 0; i < 10; ++i) processor.OnEmit(Record(i));
  ASSERT_TRUE(processor.ForceFlush(seconds(10)));
  std::lock_guard lock(sink->mu);
  ASSERT_EQ(sink->bodies.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(sink->bodies[i], "record " + std::to_string(i));
  for (size_t size : sink->batch_sizes) EXPECT_LE(size, 4u);
  LogProcessorStats stats = processor.stats();
  EXPECT_EQ(stats.emitted, 10u);
  EXPECT_EQ(stats.exported, 10u);
  EXPECT_EQ(stats.dropped(), 0u);
}

TEST(BatchLogProcessorTest, AHungCollectorFillsTheQueueAndLaterRecordsAreDroppedNotWaitedFor) {
  auto sink = std::make_shared<Sink>();
  sink->open = false;
  BatchLogProcessor processor(std::make_unique<GatedExporter>(sink), Options(8, 2));
  processor.OnEmit(Record(0));
  processor.OnEmit(Record(1));  // a full batch: the exporter thread takes it and hangs
  {
    std::unique_lock lock(sink->mu);
    ASSERT_TRUE(sink->cv.wait_for(lock, seconds(10), [&] { return sink->entered == 1; }));
  }
  // The queue holds 8; the other 92 are dropped at once, on this thread, while the
  // exporter is still stuck (this test would hang here if emitting waited).
  for (int i = 2; i < 102; ++i) processor.OnEmit(Record(i));
  LogProcessorStats stats = processor.stats();
  EXPECT_EQ(stats.emitted, 102u);
  EXPECT_EQ(stats.dropped_queue_full, 92u);
  {
    std::lock_guard lock(sink->mu);
    sink->open = true;
  }
  sink->cv.notify_all();
  ASSERT_TRUE(processor.ForceFlush(seconds(10)));
  stats = processor.stats();
  EXPECT_EQ(stats.exported, 10u);
  EXPECT_EQ(stats.dropped_queue_full, 92u);
  std::lock_guard lock(sink->mu);
  EXPECT_EQ(sink->bodies.front(), "record 0");
  EXPECT_EQ(sink->bodies.back(), "record 9");
}

TEST(BatchLogProcessorTest, TheScheduleDelaySendsAPartialBatch) {
  auto sink = std::make_shared<Sink>();
  BatchLogProcessor processor(std::make_unique<GatedExporter>(sink),
                              Options(100, 50, milliseconds(20)));
  processor.OnEmit(Record(0));
  std::unique_lock lock(sink->mu);
  EXPECT_TRUE(sink->cv.wait_for(lock, seconds(30), [&] { return sink->entered >= 1; }));
}

TEST(BatchLogProcessorTest, FailedExportsAndRecordsAfterShutdownAreCounted) {
  auto sink = std::make_shared<Sink>();
  sink->fail = true;
  BatchLogProcessor processor(std::make_unique<GatedExporter>(sink), Options(100, 10));
  for (int i = 0; i < 3; ++i) processor.OnEmit(Record(i));
  EXPECT_FALSE(processor.ForceFlush(seconds(10)));
  processor.Shutdown(seconds(10));
  processor.OnEmit(Record(3));
  LogProcessorStats stats = processor.stats();
  EXPECT_EQ(stats.dropped_export_failed, 3u);
  EXPECT_EQ(stats.dropped_shutdown, 1u);
  EXPECT_EQ(stats.exported, 0u);
}

TEST(BatchLogProcessorTest, ShutdownReturnsAtItsDeadlineWhenTheExporterHangs) {
  auto sink = std::make_shared<Sink>();
  sink->open = false;
  {
    BatchLogProcessor processor(std::make_unique<GatedExporter>(sink), Options(8, 1));
    processor.OnEmit(Record(0));
    {
      std::unique_lock lock(sink->mu);
      ASSERT_TRUE(sink->cv.wait_for(lock, seconds(10), [&] { return sink->entered == 1; }));
    }
    EXPECT_FALSE(processor.Shutdown(milliseconds(50)));
    // The thread finishes on its own once the exporter returns; it owns its state.
    {
      std::lock_guard lock(sink->mu);
      sink->open = true;
    }
    sink->cv.notify_all();
  }
}

TEST(BatchLogProcessorTest, OptionsFromTheBlrpVariables) {
  BatchLogProcessorOptions defaults = BatchLogProcessorOptionsFromEnv(MapEnv({}));
  EXPECT_EQ(defaults.schedule_delay, milliseconds(1000));
  EXPECT_EQ(defaults.export_timeout, milliseconds(30000));
  EXPECT_EQ(defaults.max_queue_size, 2048u);
  EXPECT_EQ(defaults.max_export_batch_size, 512u);
  BatchLogProcessorOptions set =
      BatchLogProcessorOptionsFromEnv(MapEnv({{"OTEL_BLRP_SCHEDULE_DELAY", "250"},
                                              {"OTEL_BLRP_EXPORT_TIMEOUT", "900"},
                                              {"OTEL_BLRP_MAX_QUEUE_SIZE", "16"},
                                              {"OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "64"}}));
  EXPECT_EQ(set.schedule_delay, milliseconds(250));
  EXPECT_EQ(set.export_timeout, milliseconds(900));
  EXPECT_EQ(set.max_queue_size, 16u);
  EXPECT_EQ(set.max_export_batch_size, 16u);  // clamped to the queue
  BatchLogProcessorOptions zero =
      BatchLogProcessorOptionsFromEnv(MapEnv({{"OTEL_BLRP_MAX_QUEUE_SIZE", "0"}}));
  EXPECT_EQ(zero.max_queue_size, 2048u);
}

}  // namespace
}  // namespace lantern::telemetry
