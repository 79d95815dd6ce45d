#include "base/thread_pool.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace lantern {
namespace {

TEST(ThreadPoolTest, ParallelForCoversEveryIndexExactlyOnce) {
  ThreadPool pool(3);
  for (int64_t n : {1, 2, 7, 100, 10007}) {
    for (int64_t grain : {0, 1, 3, 64}) {
      std::vector<std::atomic<int>> hits(n);
      pool.ParallelFor(n, grain, [&](int64_t begin, int64_t end) {
        ASSERT_LE(begin, end);
        if (grain > 0) {
          ASSERT_LE(end - begin, grain);
        }
        for (int64_t i = begin; i < end; ++i) hits[i].fetch_add(1);
      });
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "n=" << n << " i=" << i;
    }
  }
}

TEST(ThreadPoolTest, EmptyRangeCallsNothing) {
  ThreadPool pool(2);
  bool called = false;
  pool.ParallelFor(0, 1, [&](int64_t, int64_t) { called = true; });
  EXPECT_FALSE(called);
}

TEST(ThreadPoolTest, RunOnAllThreadsRunsOncePerThreadOnDistinctThreads) {
  ThreadPool pool(4, "poolt");
  std::mutex mu;
  std::set<int> indices;
  std::set<std::thread::id> ids;
  std::set<std::string> names;
  pool.RunOnAllThreads([&](int index) {
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof(name));
    std::lock_guard<std::mutex> lock(mu);
    indices.insert(index);
    ids.insert(std::this_thread::get_id());
    if (index > 0) names.insert(name);
  });
  EXPECT_EQ(indices, (std::set<int>{0, 1, 2, 3}));
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_EQ(names, (std::set<std::string>{"poolt-1", "poolt-2", "poolt-3"}));
}

TEST(ThreadPoolTest, ManyBackToBackLoopsSumCorrectly) {
  ThreadPool pool(2);
  std::atomic<int64_t> total{0};
  for (int round = 0; round < 5000; ++round) {
    pool.ParallelFor(64, 4, [&](int64_t begin, int64_t end) {
      int64_t local = 0;
      for (int64_t i = begin; i < end; ++i) local += i;
      total.fetch_add(local);
    });
  }
  EXPECT_EQ(total.load(), 5000 * (63 * 64 / 2));
}

TEST(ThreadPoolTest, SingleThreadPoolRunsInline) {
  ThreadPool pool(1);
  EXPECT_EQ(pool.num_threads(), 1);
  std::thread::id caller = std::this_thread::get_id();
  pool.ParallelFor(10, 2, [&](int64_t, int64_t) { EXPECT_EQ(std::this_thread::get_id(), caller); });
}

TEST(ThreadPoolTest, IdlePoolWakesAfterSleeping) {
  ThreadPool pool(2);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // workers go to sleep
  std::atomic<int> count{0};
  pool.RunOnAllThreads([&](int) { count.fetch_add(1); });
  EXPECT_EQ(count.load(), 2);
}

}  // namespace
}  // namespace lantern
