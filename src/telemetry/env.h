// Reading OTEL_* configuration by the specification's rules: an empty value means unset,
// only a case-insensitive "true" is true, and a bad value logs a warning naming the
// variable and is ignored (the default applies).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace lantern::telemetry {

// Looks a variable up; nullopt when it is not set. The default reads the process
// environment; tests pass a map.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
const EnvLookup& ProcessEnv();

// The value, or nullopt when unset or empty.
std::optional<std::string> EnvString(const EnvLookup& env, std::string_view name);
// true for case-insensitive "true", false for unset/empty or case-insensitive "false";
// anything else warns and gives false.
bool EnvBool(const EnvLookup& env, std::string_view name);
// A non-negative integer (surrounding spaces allowed). Bad values warn: nullopt.
std::optional<int64_t> EnvInt(const EnvLookup& env, std::string_view name);
// A non-negative integer count of milliseconds. Bad values warn: nullopt.
std::optional<std::chrono::milliseconds> EnvMillis(const EnvLookup& env, std::string_view name);

// A batch processor's four variables (OTEL_BSP_* for spans, OTEL_BLRP_* for logs): the
// delays replace `schedule_delay` and `export_timeout`; zero sizes warn and are ignored; a
// batch size above the queue size warns and is clamped to it.
struct BatchProcessorEnvNames {
  const char* schedule_delay = "";
  const char* export_timeout = "";
  const char* max_queue_size = "";
  const char* max_export_batch_size = "";
};
void ReadBatchProcessorEnv(const EnvLookup& env, const BatchProcessorEnvNames& names,
                           std::chrono::milliseconds* schedule_delay,
                           std::chrono::milliseconds* export_timeout, size_t* max_queue_size,
                           size_t* max_export_batch_size);

// ASCII lower-case copy, and whitespace trimming (spaces and tabs), used by parsers here.
std::string AsciiLower(std::string_view s);
std::string_view TrimWhitespace(std::string_view s);

}  // namespace lantern::telemetry
