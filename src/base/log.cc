#include "base/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <string>

namespace lantern::log {
namespace {

Level LevelFromEnv() {
  const char* env = std::getenv("LANTERN_LOG_LEVEL");
  if (env == nullptr) return Level::kInfo;
  std::string v(env);
  if (v == "debug") return Level::kDebug;
  if (v == "warning" || v == "warn") return Level::kWarning;
  if (v == "error") return Level::kError;
  return Level::kInfo;
}

std::atomic<int>& CurrentLevel() {
  static std::atomic<int> level{static_cast<int>(LevelFromEnv())};
  return level;
}

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "DEBUG";
    case Level::kInfo:
      return "INFO";
    case Level::kWarning:
      return "WARNING";
    case Level::kError:
      return "ERROR";
  }
  return "?";
}

}  // namespace

bool Enabled(Level level) {
  return static_cast<int>(level) >= CurrentLevel().load(std::memory_order_relaxed);
}

void SetLevel(Level level) { CurrentLevel().store(static_cast<int>(level)); }

void Write(Level level, std::string_view component, std::string_view message) {
  auto now = std::chrono::system_clock::now();
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  int millis = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  localtime_r(&seconds, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%m-%d %H:%M:%S", &tm);
  std::string line;
  line.reserve(message.size() + component.size() + 48);
  line += stamp;
  char ms[8];
  std::snprintf(ms, sizeof ms, ".%03d ", millis);
  line += ms;
  line += LevelName(level);
  line += ' ';
  line += component;
  line += ": ";
  line += message;
  line += '\n';
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace lantern::log
