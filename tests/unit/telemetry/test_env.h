// A fake environment for tests: OTEL_* variables from a map, never the real process's.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "telemetry/env.h"

namespace lantern::telemetry {

inline EnvLookup MapEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace lantern::telemetry
