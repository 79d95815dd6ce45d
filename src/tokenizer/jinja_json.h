// Conversions between JSON documents and Jinja values, and the `tojson` serialisation, which
// follows Python's json.dumps as transformers configures it (ensure_ascii=False by default).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "tokenizer/jinja_value.h"

namespace lantern::jinja {

// JSON objects become dicts in document order (use ordered_json to keep the client's key
// order, as Python's json.loads does), arrays lists, integers ints, other numbers floats.
Value FromJson(const nlohmann::ordered_json& json);
Value FromJson(const nlohmann::json& json);

struct JsonFormat {
  std::optional<int> indent;   // pretty-print with this many spaces per level
  std::string item_separator;  // "" means json.dumps's default for the indent setting
  std::string key_separator = ": ";
  bool sort_keys = false;
  bool ensure_ascii = false;
};

// json.dumps(value). Undefined serialises as null; functions are a runtime error (throws
// jinja::Error).
std::string ToJson(const Value& value, const JsonFormat& format);

}  // namespace lantern::jinja
