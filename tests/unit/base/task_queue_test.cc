#include "base/task_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>

namespace lantern {
namespace {

// A latch the test opens to let blocked tasks go.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  void Wait() {
    std::unique_lock lock(mu);
    cv.wait(lock, [this] { return open; });
  }
  void Open() {
    {
      std::lock_guard lock(mu);
      open = true;
    }
    cv.notify_all();
  }
};

TEST(TaskQueueTest, RunsEveryAcceptedTask) {
  std::atomic<int> ran{0};
  {
    TaskQueue queue(3, 1000, "test");
    for (int i = 0; i < 500; ++i) ASSERT_TRUE(queue.TrySubmit([&] { ran.fetch_add(1); }));
  }  // the destructor runs what is still queued
  EXPECT_EQ(ran.load(), 500);
}

TEST(TaskQueueTest, RefusesTasksBeyondTheLimitWhileWorkersAreBusy) {
  Gate gate;
  std::atomic<int> started{0};
  std::atomic<int> ran{0};
  TaskQueue queue(2, 3, "test");
  auto blocking = [&] {
    started.fetch_add(1);
    gate.Wait();
    ran.fetch_add(1);
  };
  ASSERT_TRUE(queue.TrySubmit(blocking));
  ASSERT_TRUE(queue.TrySubmit(blocking));
  while (started.load() < 2) std::this_thread::yield();  // both workers are now held
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(queue.TrySubmit(blocking)) << i;
  EXPECT_EQ(queue.pending(), 3u);
  EXPECT_FALSE(queue.TrySubmit(blocking));  // full: refused at once, not queued
  gate.Open();
  while (ran.load() < 5) std::this_thread::yield();
  EXPECT_EQ(queue.pending(), 0u);
  EXPECT_TRUE(queue.TrySubmit([] {}));  // room again
}

TEST(TaskQueueTest, ATaskThatThrowsDoesNotStopTheWorker) {
  std::atomic<int> ran{0};
  {
    TaskQueue queue(1, 10, "test");
    ASSERT_TRUE(queue.TrySubmit([] { throw std::runtime_error("boom"); }));
    ASSERT_TRUE(queue.TrySubmit([&] { ran.fetch_add(1); }));
  }
  EXPECT_EQ(ran.load(), 1);
}

}  // namespace
}  // namespace lantern
