// Small helpers for reading tokenizer.json fields with errors that name the field.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace lantern::tokenizer {

// The string field `key` of `object`, or an InvalidArgument error naming `where`.
Result<std::string> GetString(const nlohmann::json& object, const char* key,
                              const std::string& where);
// The boolean field `key`, or `fallback` when it is absent or null.
Result<bool> GetBool(const nlohmann::json& object, const char* key, bool fallback,
                     const std::string& where);
// The "type" of a component, or an error.
Result<std::string> GetType(const nlohmann::json& object, const std::string& where);
// A "pattern" object: {"String": s} becomes an escaped literal, {"Regex": r} stays.
Result<std::string> GetPattern(const nlohmann::json& object, const std::string& where);

}  // namespace lantern::tokenizer
