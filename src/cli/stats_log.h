// The periodic stats line vLLM users read in their logs, every 10 s while the server is
// busy: running and waiting requests, prompt and generation tokens/s, KV cache usage and
// the prefix-cache hit rate since the previous line. Quiet while idle (nothing changed),
// and off with --disable-log-stats.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "engine/engine_stats.h"

namespace lantern::cli {

// The stats line for the `seconds` between two readings of the counters, or nullopt when the
// server was idle (nothing running or waiting, no tokens) and the line is left out.
std::optional<std::string> FormatStatsLine(const engine::EngineCounters& last,
                                           const engine::EngineCounters& now, double seconds);

class StatsLog {
 public:
  StatsLog(std::function<engine::EngineCounters()> read, std::chrono::milliseconds interval);
  ~StatsLog();  // stops the thread
  StatsLog(const StatsLog&) = delete;
  StatsLog& operator=(const StatsLog&) = delete;

 private:
  void Run();

  std::function<engine::EngineCounters()> read_;
  std::chrono::milliseconds interval_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace lantern::cli
