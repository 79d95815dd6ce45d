#include "cli/stats_log.h"

#include <pthread.h>

#include <cstdio>

#include "base/log.h"

namespace lantern::cli {

std::optional<std::string> FormatStatsLine(const engine::EngineCounters& last,
                                           const engine::EngineCounters& now, double seconds) {
  uint64_t prompt = now.prompt_tokens - last.prompt_tokens;
  uint64_t generated = now.generation_tokens - last.generation_tokens;
  uint64_t queries = now.prefix_cache_queries - last.prefix_cache_queries;
  uint64_t hits = now.prefix_cache_hits - last.prefix_cache_hits;
  bool busy = now.num_running > 0 || now.num_waiting > 0 || prompt > 0 || generated > 0;
  if (!busy || seconds <= 0) return std::nullopt;
  char line[256];
  std::snprintf(line, sizeof(line),
                "Avg prompt throughput: %.1f tokens/s, Avg generation throughput: %.1f "
                "tokens/s, Running: %d reqs, Waiting: %d reqs, KV cache usage: %.1f%%, "
                "Prefix cache hit rate: %.1f%%",
                prompt / seconds, generated / seconds, now.num_running, now.num_waiting,
                now.kv_usage() * 100, queries ? 100.0 * hits / queries : 0.0);
  return std::string(line);
}

StatsLog::StatsLog(std::function<engine::EngineCounters()> read, std::chrono::milliseconds interval)
    : read_(std::move(read)), interval_(interval) {
  thread_ = std::thread([this] { Run(); });
  pthread_setname_np(thread_.native_handle(), "lantern-stats");
}

StatsLog::~StatsLog() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void StatsLog::Run() {
  engine::EngineCounters last = read_();
  auto last_time = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_);
  while (!wake_.wait_for(lock, interval_, [this] { return stop_; })) {
    engine::EngineCounters now = read_();
    auto now_time = std::chrono::steady_clock::now();
    double seconds = std::chrono::duration<double>(now_time - last_time).count();
    if (auto line = FormatStatsLine(last, now, seconds)) {
      LANTERN_LOG(kInfo, "stats") << *line;
    }
    last = now;
    last_time = now_time;
  }
}

}  // namespace lantern::cli
