#include "tokenizer/json_util.h"

#include <algorithm>
#include <limits>

#include "tokenizer/regex.h"

namespace lantern::tokenizer {
namespace {

constexpr size_t kQuotedBytes = 64;

std::string Dump(const nlohmann::json& value) {
  // Replacing invalid UTF-8 rather than throwing: the text only goes into a message.
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

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

std::string Quote(std::string_view text) {
  if (text.size() <= kQuotedBytes) return Dump(std::string(text));
  return Dump(std::string(text.substr(0, kQuotedBytes))) + "...";
}

std::string Describe(const nlohmann::json& value) {
  std::string text = Dump(value);
  if (text.size() > kQuotedBytes) text = text.substr(0, kQuotedBytes) + "...";
  return text;
}

std::optional<int32_t> AsTokenId(const nlohmann::json& value) {
  constexpr int64_t kMax = std::numeric_limits<int32_t>::max();
  // Read by kind: a parsed id above INT64_MAX is unsigned and would wrap as a signed one.
  if (value.is_number_unsigned()) {
    if (value.get<uint64_t>() <= static_cast<uint64_t>(kMax)) return value.get<int32_t>();
  } else if (value.is_number_integer()) {
    const auto id = value.get<int64_t>();
    if (id >= 0 && id <= kMax) return static_cast<int32_t>(id);
  }
  return std::nullopt;
}

int64_t TokenIdLimit(size_t entries, size_t added) {
  // Entries are bounded by the memory of the parsed file, far below overflow.
  const auto limit = static_cast<int64_t>(2 * (entries + added) + 1024);
  return std::min<int64_t>(limit, std::numeric_limits<int32_t>::max());
}

Result<int32_t> GetTokenId(const nlohmann::json& value, std::string_view token, int64_t limit) {
  if (!value.is_number_integer()) {
    return InvalidArgument("the id of " + Quote(token) + " must be an integer, not " +
                           Describe(value));
  }
  std::optional<int32_t> id = AsTokenId(value);
  if (!id || *id >= limit) {
    return InvalidArgument("token id " + Dump(value) + " of " + Quote(token) + " is outside [0, " +
                           std::to_string(limit) +
                           "), the ids a file with this many tokens may use");
  }
  return *id;
}

}  // namespace lantern::tokenizer
