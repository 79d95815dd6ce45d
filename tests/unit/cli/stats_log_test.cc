// The 10 s stats line vLLM users grep their logs for: its wording and arithmetic, its
// silence while idle, and the thread that writes it through base/log.
#include "cli/stats_log.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "base/log.h"

namespace lantern::cli {
namespace {

engine::EngineCounters Counters(int running, int waiting, uint64_t prompt, uint64_t generated) {
  engine::EngineCounters counters;
  counters.num_running = running;
  counters.num_waiting = waiting;
  counters.prompt_tokens = prompt;
  counters.generation_tokens = generated;
  return counters;
}

TEST(StatsLine, ReportsRatesSinceTheLastLineUsageAndHitRate) {
  engine::EngineCounters last = Counters(0, 0, 1000, 5000);
  last.prefix_cache_queries = 100;
  last.prefix_cache_hits = 10;
  engine::EngineCounters now = Counters(3, 2, 1000 + 250, 5000 + 1234);
  now.kv_blocks_used = 37;
  now.kv_blocks_total = 200;
  now.prefix_cache_queries = 100 + 400;  // 300 of the 400 new queried tokens were hits
  now.prefix_cache_hits = 10 + 300;
  auto line = FormatStatsLine(last, now, 10.0);
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(*line,
            "Avg prompt throughput: 25.0 tokens/s, Avg generation throughput: 123.4 tokens/s, "
            "Running: 3 reqs, Waiting: 2 reqs, KV cache usage: 18.5%, "
            "Prefix cache hit rate: 75.0%");
}

TEST(StatsLine, NoPrefixQueriesReadsAsZeroHitRate) {
  engine::EngineCounters now = Counters(1, 0, 0, 8);
  auto line = FormatStatsLine(engine::EngineCounters{}, now, 4.0);
  ASSERT_TRUE(line.has_value());
  EXPECT_NE(line->find("Avg generation throughput: 2.0 tokens/s"), std::string::npos) << *line;
  EXPECT_NE(line->find("KV cache usage: 0.0%, Prefix cache hit rate: 0.0%"), std::string::npos)
      << *line;
}

TEST(StatsLine, BusyWhenRequestsWaitOrTokensWereCounted) {
  EXPECT_TRUE(FormatStatsLine({}, Counters(0, 1, 0, 0), 10.0).has_value());  // only waiting
  // Everything finished since the last line: its tokens still make a line.
  EXPECT_TRUE(FormatStatsLine(Counters(0, 0, 5, 5), Counters(0, 0, 9, 5), 10.0).has_value());
}

TEST(StatsLine, QuietWhileIdle) {
  engine::EngineCounters idle = Counters(0, 0, 700, 900);
  idle.kv_blocks_used = 4;  // cached prefixes stay in the pool while idle
  idle.kv_blocks_total = 100;
  EXPECT_FALSE(FormatStatsLine(idle, idle, 10.0).has_value());
  EXPECT_FALSE(FormatStatsLine({}, Counters(1, 0, 0, 0), 0.0).has_value());  // no time passed
}

// base/log's sink is a plain function pointer: the records it saw, behind a lock.
std::mutex captured_mu;
std::vector<std::string> captured;  // "component: message"

void Capture(const log::Record& record) {
  std::lock_guard lock(captured_mu);
  captured.push_back(std::string(record.component) + ": " + std::string(record.message));
}

TEST(StatsLog, WritesTheLineUnderTheStatsLogger) {
  {
    std::lock_guard lock(captured_mu);
    captured.clear();
  }
  log::SetSink(&Capture);
  std::atomic<uint64_t> generated{0};
  bool seen = false;
  {
    StatsLog stats([&] { return Counters(1, 0, 0, generated += 10); },
                   std::chrono::milliseconds(10));
    for (int i = 0; i < 1000 && !seen; ++i) {  // up to 10 s on a loaded machine
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      std::lock_guard lock(captured_mu);
      for (const std::string& entry : captured) {
        if (entry.rfind("stats: Avg prompt throughput: 0.0 tokens/s, ", 0) == 0 &&
            entry.find("Running: 1 reqs, Waiting: 0 reqs") != std::string::npos) {
          seen = true;
        }
      }
    }
  }  // the destructor stops the thread before the sink goes away
  log::SetSink(nullptr);
  EXPECT_TRUE(seen);
}

}  // namespace
}  // namespace lantern::cli
