// Minimal leveled logging to stderr. LANTERN_LOG_LEVEL=debug|info|warning|error.
#pragma once

#include <sstream>
#include <string_view>

namespace lantern::log {

enum class Level { kDebug = 0, kInfo, kWarning, kError };

bool Enabled(Level level);
void SetLevel(Level level);
// Writes one line "<time> <LEVEL> <component>: <message>" atomically.
void Write(Level level, std::string_view component, std::string_view message);

class LineBuilder {
 public:
  LineBuilder(Level level, std::string_view component) : level_(level), component_(component) {}
  ~LineBuilder() { Write(level_, component_, stream_.str()); }
  template <typename T>
  LineBuilder& operator<<(const T& v) {
    stream_ << v;
    return *this;
  }

 private:
  Level level_;
  std::string_view component_;
  std::ostringstream stream_;
};

}  // namespace lantern::log

// LANTERN_LOG(kInfo, "engine") << "started " << n << " workers";
#define LANTERN_LOG(level, component)                           \
  if (!::lantern::log::Enabled(::lantern::log::Level::level)) { \
  } else                                                        \
    ::lantern::log::LineBuilder(::lantern::log::Level::level, component)
