#include "telemetry/env.h"

#include <cctype>
#include <charconv>
#include <cstdlib>

#include "base/log.h"

namespace lantern::telemetry {

const EnvLookup& ProcessEnv() {
  // Never destroyed: read during process exit too.
  static const EnvLookup* lookup = new EnvLookup([](std::string_view name) {
    const char* value = std::getenv(std::string(name).c_str());
    return value ? std::optional<std::string>(value) : std::nullopt;
  });
  return *lookup;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view TrimWhitespace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::optional<std::string> EnvString(const EnvLookup& env, std::string_view name) {
  std::optional<std::string> value = env(name);
  if (!value || value->empty()) return std::nullopt;
  return value;
}

bool EnvBool(const EnvLookup& env, std::string_view name) {
  std::optional<std::string> value = EnvString(env, name);
  if (!value) return false;
  std::string lower = AsciiLower(TrimWhitespace(*value));
  if (lower == "true") return true;
  if (lower != "false") {
    LANTERN_LOG(kWarning, "telemetry")
        << name << "=\"" << *value << "\" is not a boolean (true or false); using false";
  }
  return false;
}

std::optional<int64_t> EnvInt(const EnvLookup& env, std::string_view name) {
  std::optional<std::string> value = EnvString(env, name);
  if (!value) return std::nullopt;
  std::string_view text = TrimWhitespace(*value);
  int64_t parsed = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || parsed < 0) {
    LANTERN_LOG(kWarning, "telemetry")
        << name << "=\"" << *value << "\" is not a non-negative integer; ignored";
    return std::nullopt;
  }
  return parsed;
}

std::optional<std::chrono::milliseconds> EnvMillis(const EnvLookup& env, std::string_view name) {
  std::optional<int64_t> value = EnvInt(env, name);
  if (!value) return std::nullopt;
  return std::chrono::milliseconds(*value);
}

void ReadBatchProcessorEnv(const EnvLookup& env, const BatchProcessorEnvNames& names,
                           std::chrono::milliseconds* schedule_delay,
                           std::chrono::milliseconds* export_timeout, size_t* max_queue_size,
                           size_t* max_export_batch_size) {
  if (auto v = EnvMillis(env, names.schedule_delay)) *schedule_delay = *v;
  if (auto v = EnvMillis(env, names.export_timeout)) *export_timeout = *v;
  auto positive = [&](const char* name, size_t* out) {
    if (auto v = EnvInt(env, name)) {
      if (*v == 0) {
        LANTERN_LOG(kWarning, "telemetry") << name << "=0 is not a positive size; ignored";
      } else {
        *out = static_cast<size_t>(*v);
      }
    }
  };
  positive(names.max_queue_size, max_queue_size);
  positive(names.max_export_batch_size, max_export_batch_size);
  if (*max_export_batch_size > *max_queue_size) {
    LANTERN_LOG(kWarning, "telemetry")
        << names.max_export_batch_size << " (" << *max_export_batch_size << ") exceeds "
        << names.max_queue_size << " (" << *max_queue_size << "); using " << *max_queue_size;
    *max_export_batch_size = *max_queue_size;
  }
}

}  // namespace lantern::telemetry
