#include "tokenizer/json_util.h"

#include "tokenizer/regex.h"

namespace lantern::tokenizer {

Result<std::string> GetString(const nlohmann::json& object, const char* key,
                              const std::string& where) {
  if (!object.is_object()) return InvalidArgument(where + ": expected an object");
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) {
    return InvalidArgument(where + ": field '" + key + "' must be a string");
  }
  return it->get<std::string>();
}

Result<bool> GetBool(const nlohmann::json& object, const char* key, bool fallback,
                     const std::string& where) {
  if (!object.is_object()) return InvalidArgument(where + ": expected an object");
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) return InvalidArgument(where + ": field '" + key + "' must be a boolean");
  return it->get<bool>();
}

Result<std::string> GetType(const nlohmann::json& object, const std::string& where) {
  return GetString(object, "type", where);
}

Result<std::string> GetPattern(const nlohmann::json& object, const std::string& where) {
  if (!object.is_object()) return InvalidArgument(where + ": 'pattern' must be an object");
  if (auto it = object.find("String"); it != object.end() && it->is_string()) {
    return EscapeRegex(it->get<std::string>());
  }
  if (auto it = object.find("Regex"); it != object.end() && it->is_string()) {
    return it->get<std::string>();
  }
  return InvalidArgument(where + ": 'pattern' must be {\"String\": ...} or {\"Regex\": ...}");
}

}  // namespace lantern::tokenizer
