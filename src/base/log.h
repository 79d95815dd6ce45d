// Leveled logging to stderr (LANTERN_LOG_LEVEL=debug|info|warning|error), one line per
// record, as text or as JSON (LANTERN_LOG_FORMAT=text|json, or SetFormat). A thread may
// carry a log context — the trace and span id of the request it is working for — which
// every line it writes meanwhile carries too, so that a log search and a trace search meet.
// A sink (the OTLP logs exporter, wired by the cli) receives every record written; base/
// knows nothing of telemetry.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace lantern::log {

enum class Level { kDebug = 0, kInfo, kWarning, kError };
enum class Format { kText, kJson };

bool Enabled(Level level);
void SetLevel(Level level);
// The default is LANTERN_LOG_FORMAT's, else text.
void SetFormat(Format format);
Format GetFormat();
// "text" or "json" (any case); nullopt for anything else.
std::optional<Format> ParseFormat(std::string_view text);
const char* LevelName(Level level);  // "DEBUG", "INFO", "WARNING", "ERROR"

// The trace context of the work the current thread is doing, as W3C ids (all-zero: none).
struct Context {
  std::array<uint8_t, 16> trace_id{};
  std::array<uint8_t, 8> span_id{};
  uint8_t trace_flags = 0;  // W3C flags: bit 0 = sampled

  bool valid() const;  // a non-zero trace id
};

// This thread's context (an invalid one when none is set).
const Context& CurrentContext();

// Sets this thread's context for the scope; the previous one comes back at its end.
class ScopedContext {
 public:
  explicit ScopedContext(const Context& context);
  ~ScopedContext();
  ScopedContext(const ScopedContext&) = delete;
  ScopedContext& operator=(const ScopedContext&) = delete;

 private:
  Context previous_;
};

// One record, as the writers and the sink see it.
struct Record {
  Level level = Level::kInfo;
  std::string_view component;  // the logger: "http", "engine", "serve", ...
  std::string_view message;
  std::chrono::system_clock::time_point time{};
  const Context* context = nullptr;  // never null inside Write; null reads as none
  const char* file = nullptr;        // where LANTERN_LOG was written (may be null)
  int line = 0;
};

// The line `record` is written as, '\n' included. Text: "<local time> <LEVEL> <logger>:
// <message>[ trace_id=<hex> span_id=<hex>]". JSON: {"time" (RFC 3339, UTC, microseconds),
// "level", "logger", "message"[, "trace_id", "span_id", "trace_flags"]}, always valid
// UTF-8 JSON on one line (control characters escaped, invalid bytes replaced by U+FFFD).
std::string FormatLine(Format format, const Record& record);

// Appends `text` as the body of a JSON string (no quotes): ", \, control characters and
// U+2028/9 escaped, invalid UTF-8 replaced by U+FFFD.
void AppendJsonEscaped(std::string_view text, std::string* out);

// A second destination of every record written, on the writing thread, after the line.
// It must not block (queue and return) and must not log. null: none.
using Sink = void (*)(const Record& record);
void SetSink(Sink sink);

// Writes one record atomically with the thread's context, to stderr and the sink.
void Write(Level level, std::string_view component, std::string_view message,
           const char* file = nullptr, int line = 0);

class LineBuilder {
 public:
  LineBuilder(Level level, std::string_view component, const char* file = nullptr, int line = 0)
      : level_(level), component_(component), file_(file), line_(line) {}
  ~LineBuilder() { Write(level_, component_, stream_.str(), file_, line_); }
  template <typename T>
  LineBuilder& operator<<(const T& v) {
    stream_ << v;
    return *this;
  }

 private:
  Level level_;
  std::string_view component_;
  const char* file_;
  int line_;
  std::ostringstream stream_;
};

}  // namespace lantern::log

// LANTERN_LOG(kInfo, "engine") << "started " << n << " workers";
#define LANTERN_LOG(level, component)                           \
  if (!::lantern::log::Enabled(::lantern::log::Level::level)) { \
  } else                                                        \
    ::lantern::log::LineBuilder(::lantern::log::Level::level, component, __FILE__, __LINE__)
