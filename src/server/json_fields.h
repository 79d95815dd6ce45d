// Parsing of request bodies and typed, bounds-checked reading of a JSON object's fields for
// request validation. Each read names the field (with its path, e.g. "messages[1].content")
// in the ApiError(400) it throws, and says what was expected and what came.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

namespace lantern::server {

// The body as a JSON object, or ApiError(400) saying where it is malformed: the byte of a
// syntax error, the field (a path such as "foo.bar[0]") of a number beyond a double
// (1e999), nesting deeper than 64 levels.
nlohmann::json ParseJsonObject(const std::string& body);

// "string \"abc\"", "number 1.5", "array", ...: a short description of a value for messages.
std::string DescribeJson(const nlohmann::json& value);

class FieldReader {
 public:
  // `path` prefixes field names in messages ("" for the top level).
  FieldReader(const nlohmann::json& object, std::string path);

  // The value when present and not null; nullptr otherwise. Marks the field as known.
  const nlohmann::json* Get(const std::string& name);
  std::optional<std::string> String(const std::string& name);
  std::optional<bool> Bool(const std::string& name);
  std::optional<double> Number(const std::string& name);
  // An integer in [min, max]; integral floats such as 5.0 are accepted.
  std::optional<int64_t> Integer(const std::string& name, int64_t min, int64_t max);
  // A field that is accepted and deliberately ignored.
  void Ignore(const std::string& name) { known_.insert(name); }

  // Logs the non-null fields that nothing read, as vLLM does: clients built for vLLM send
  // extras, which are accepted and ignored. One warning line per field name for the
  // life of the process, so that a client repeating a field cannot flood the log.
  void WarnUnknown() const;

  std::string PathOf(const std::string& name) const;

 private:
  const nlohmann::json& object_;
  std::string path_;
  std::set<std::string> known_;
};

// Logs once per field name (array indices dropped) that the field at `path` was ignored.
void WarnIgnoredField(const std::string& path);

// The integer value of `value` (integral floats accepted) in [min, max], or ApiError naming
// `param`.
int64_t JsonInteger(const nlohmann::json& value, const std::string& param, int64_t min,
                    int64_t max);

}  // namespace lantern::server
