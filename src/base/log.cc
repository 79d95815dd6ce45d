#include "base/log.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>

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

Format FormatFromEnv() {
  const char* env = std::getenv("LANTERN_LOG_FORMAT");
  if (env == nullptr) return Format::kText;
  return ParseFormat(env).value_or(Format::kText);
}

std::atomic<int>& CurrentLevel() {
  static std::atomic<int> level{static_cast<int>(LevelFromEnv())};
  return level;
}

std::atomic<int>& CurrentFormat() {
  static std::atomic<int> format{static_cast<int>(FormatFromEnv())};
  return format;
}

std::atomic<Sink>& CurrentSink() {
  static std::atomic<Sink> sink{nullptr};
  return sink;
}

thread_local Context t_context;

template <size_t N>
void AppendHex(const std::array<uint8_t, N>& bytes, std::string* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (uint8_t b : bytes) {
    out->push_back(kDigits[b >> 4]);
    out->push_back(kDigits[b & 15]);
  }
}

// The length of the valid UTF-8 sequence at text[i], or 0 when it is not one (overlong
// forms, surrogates and code points past U+10FFFF are invalid, as in RFC 3629).
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = byte(i);
  size_t length = c < 0xC2 ? 0 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 0;
  if (length == 0 || i + length > text.size()) return 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
  if (c == 0xE0) lo = 0xA0;
  if (c == 0xED) hi = 0x9F;
  if (c == 0xF0) lo = 0x90;
  if (c == 0xF4) hi = 0x8F;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

void AppendLocalStamp(std::chrono::system_clock::time_point time, std::string* out) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  int millis = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count() %
      1000);
  std::tm tm{};
  localtime_r(&seconds, &tm);
  char stamp[48];
  size_t n = std::strftime(stamp, sizeof stamp, "%m-%d %H:%M:%S", &tm);
  n += static_cast<size_t>(std::snprintf(stamp + n, sizeof stamp - n, ".%03d", millis));
  out->append(stamp, n);
}

// RFC 3339 in UTC with microseconds: "2026-12-07T15:36:25.123456Z".
void AppendUtcStamp(std::chrono::system_clock::time_point time, std::string* out) {
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(micros / 1000000);
  int64_t fraction = micros % 1000000;
  if (fraction < 0) {  // before 1970: floor, not truncate
    fraction += 1000000;
    --seconds;
  }
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char stamp[64];
  size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  n += static_cast<size_t>(
      std::snprintf(stamp + n, sizeof stamp - n, ".%06lldZ", static_cast<long long>(fraction)));
  out->append(stamp, n);
}

void AppendJsonField(std::string_view key, std::string_view value, std::string* out) {
  out->append(",\"");
  out->append(key);
  out->append("\":\"");
  AppendJsonEscaped(value, out);
  out->push_back('"');
}

}  // namespace

bool Enabled(Level level) {
  return static_cast<int>(level) >= CurrentLevel().load(std::memory_order_relaxed);
}

void SetLevel(Level level) { CurrentLevel().store(static_cast<int>(level)); }

void SetFormat(Format format) { CurrentFormat().store(static_cast<int>(format)); }

Format GetFormat() { return static_cast<Format>(CurrentFormat().load(std::memory_order_relaxed)); }

std::optional<Format> ParseFormat(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "text") return Format::kText;
  if (lower == "json") return Format::kJson;
  return std::nullopt;
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

bool Context::valid() const {
  return std::any_of(trace_id.begin(), trace_id.end(), [](uint8_t b) { return b != 0; });
}

const Context& CurrentContext() { return t_context; }

ScopedContext::ScopedContext(const Context& context) : previous_(t_context) { t_context = context; }

ScopedContext::~ScopedContext() { t_context = previous_; }

void AppendJsonEscaped(std::string_view text, std::string* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      size_t length = Utf8SequenceLength(text, i);
      if (length == 0) {
        out->append("\\ufffd");
        ++i;
        continue;
      }
      // U+2028 and U+2029 end lines in JavaScript: escaped, so that no reader splits.
      if (length == 3 && c == 0xE2 && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
          (text[i + 2] == '\xA8' || text[i + 2] == '\xA9')) {
        out->append(text[i + 2] == '\xA8' ? "\\u2028" : "\\u2029");
      } else {
        out->append(text.substr(i, length));
      }
      i += length;
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out->append("\\u00");
          out->push_back(kDigits[c >> 4]);
          out->push_back(kDigits[c & 15]);
        } else {
          out->push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
}

std::string FormatLine(Format format, const Record& record) {
  static const Context kNone;
  const Context& context = record.context != nullptr ? *record.context : kNone;
  std::string line;
  line.reserve(record.message.size() + record.component.size() + 128);
  if (format == Format::kJson) {
    line.append("{\"time\":\"");
    AppendUtcStamp(record.time, &line);
    line.push_back('"');
    AppendJsonField("level", LevelName(record.level), &line);
    AppendJsonField("logger", record.component, &line);
    AppendJsonField("message", record.message, &line);
    if (context.valid()) {
      line.append(",\"trace_id\":\"");
      AppendHex(context.trace_id, &line);
      line.append("\",\"span_id\":\"");
      AppendHex(context.span_id, &line);
      line.append("\",\"trace_flags\":\"");
      AppendHex(std::array<uint8_t, 1>{context.trace_flags}, &line);
      line.push_back('"');
    }
    line.append("}\n");
    return line;
  }
  AppendLocalStamp(record.time, &line);
  line.push_back(' ');
  line.append(LevelName(record.level));
  line.push_back(' ');
  line.append(record.component);
  line.append(": ");
  line.append(record.message);
  if (context.valid()) {
    line.append(" trace_id=");
    AppendHex(context.trace_id, &line);
    line.append(" span_id=");
    AppendHex(context.span_id, &line);
  }
  line.push_back('\n');
  return line;
}

void SetSink(Sink sink) { CurrentSink().store(sink, std::memory_order_release); }

void Write(Level level, std::string_view component, std::string_view message, const char* file,
           int line) {
  Record record;
  record.level = level;
  record.component = component;
  record.message = message;
  record.time = std::chrono::system_clock::now();
  record.context = &t_context;
  record.file = file;
  record.line = line;
  std::string text = FormatLine(GetFormat(), record);
  {
    static std::mutex mu;
    std::lock_guard<std::mutex> lock(mu);
    std::fwrite(text.data(), 1, text.size(), stderr);
  }
  if (Sink sink = CurrentSink().load(std::memory_order_acquire)) sink(record);
}

}  // namespace lantern::log
