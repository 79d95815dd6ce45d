#include "tokenizer/jinja_json.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "tokenizer/jinja_budget.h"
#include "tokenizer/jinja_error.h"
#include "tokenizer/jinja_text.h"

namespace lantern::jinja {
namespace {

template <typename Json>
Value FromJsonImpl(const Json& json) {
  switch (json.type()) {
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
      return Value::None();
    case nlohmann::json::value_t::boolean:
      return Value(json.template get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Value(json.template get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      uint64_t u = json.template get<uint64_t>();
      if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Value(static_cast<int64_t>(u));
      }
      return Value(static_cast<double>(u));
    }
    case nlohmann::json::value_t::number_float:
      return Value(json.template get<double>());
    case nlohmann::json::value_t::string:
      return Value(json.template get_ref<const std::string&>());
    case nlohmann::json::value_t::array: {
      List items;
      items.reserve(json.size());
      for (const auto& item : json) items.push_back(FromJsonImpl(item));
      return Value::MakeList(std::move(items));
    }
    case nlohmann::json::value_t::object: {
      Dict dict;
      for (auto it = json.begin(); it != json.end(); ++it) dict.Set(it.key(), FromJsonImpl(*it));
      return Value::MakeDict(std::move(dict));
    }
    case nlohmann::json::value_t::binary:
      break;
  }
  return Value::None();
}

void AppendJsonString(const std::string& s, bool ensure_ascii, std::string* out) {
  out->push_back('"');
  auto escape_unit = [out](unsigned unit) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "\\u%04x", unit);
    out->append(buf);
  };
  for (char32_t c : DecodeUtf8(s)) {
    switch (c) {
      case '"':
        out->append("\\\"");
        continue;
      case '\\':
        out->append("\\\\");
        continue;
      case '\n':
        out->append("\\n");
        continue;
      case '\r':
        out->append("\\r");
        continue;
      case '\t':
        out->append("\\t");
        continue;
      case '\b':
        out->append("\\b");
        continue;
      case '\f':
        out->append("\\f");
        continue;
      default:
        break;
    }
    if (c < 0x20 || (ensure_ascii && c >= 0x7f)) {
      if (c >= 0x10000) {  // UTF-16 surrogate pair, as Python writes it
        char32_t v = c - 0x10000;
        escape_unit(0xD800 + (v >> 10));
        escape_unit(0xDC00 + (v & 0x3FF));
      } else {
        escape_unit(c);
      }
      continue;
    }
    AppendUtf8(c, out);
  }
  out->push_back('"');
}

class JsonWriter {
 public:
  explicit JsonWriter(const JsonFormat& format) : format_(format) {
    item_separator_ = !format.item_separator.empty() ? format.item_separator
                      : format.indent.has_value()    ? ","
                                                     : ", ";
  }

  void Write(const Value& value, int depth, std::string* out) {
    if (depth > kMaxValueDepth) ThrowRuntime("tojson: value nested too deeply");
    switch (value.kind()) {
      case Value::Kind::kUndefined:
      case Value::Kind::kNone:
        out->append("null");
        return;
      case Value::Kind::kBool:
        out->append(value.as_bool() ? "true" : "false");
        return;
      case Value::Kind::kInt:
        out->append(std::to_string(value.as_int()));
        return;
      case Value::Kind::kFloat: {
        double d = value.as_double();
        if (std::isnan(d)) {
          out->append("NaN");
        } else if (std::isinf(d)) {
          out->append(d < 0 ? "-Infinity" : "Infinity");
        } else {
          out->append(FormatPythonFloat(d));
        }
        return;
      }
      case Value::Kind::kString:
        ChargeScan(value.as_string().size());
        CheckAllocation(out->size() + value.as_string().size());
        AppendJsonString(value.as_string(), format_.ensure_ascii, out);
        return;
      case Value::Kind::kList:
        WriteList(value.as_list(), depth, out);
        return;
      case Value::Kind::kDict:
      case Value::Kind::kNamespace:
        WriteDict(value.as_dict(), depth, out);
        return;
      case Value::Kind::kFunction:
        ThrowRuntime("Object of type function is not JSON serializable");
    }
  }

 private:
  void NewLine(int depth, std::string* out) const {
    if (!format_.indent.has_value()) return;
    size_t spaces = static_cast<size_t>(std::max(0, *format_.indent)) * static_cast<size_t>(depth);
    CheckAllocation(out->size() + spaces + 1);
    out->push_back('\n');
    out->append(spaces, ' ');
  }

  void WriteList(const List& list, int depth, std::string* out) {
    if (list.empty()) {
      out->append("[]");
      return;
    }
    ChargeSteps(1 + static_cast<int64_t>(list.size()));
    out->push_back('[');
    for (size_t i = 0; i < list.size(); ++i) {
      if (i) out->append(item_separator_);
      NewLine(depth + 1, out);
      Write(list[i], depth + 1, out);
    }
    NewLine(depth, out);
    out->push_back(']');
  }

  void WriteDict(const Dict& dict, int depth, std::string* out) {
    if (dict.empty()) {
      out->append("{}");
      return;
    }
    ChargeSteps(1 + static_cast<int64_t>(dict.size()));
    std::vector<const Dict::Entry*> entries;
    for (const Dict::Entry& e : dict.entries()) entries.push_back(&e);
    if (format_.sort_keys) {
      std::stable_sort(
          entries.begin(), entries.end(),
          [](const Dict::Entry* a, const Dict::Entry* b) { return a->first < b->first; });
    }
    out->push_back('{');
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i) out->append(item_separator_);
      NewLine(depth + 1, out);
      AppendJsonString(entries[i]->first, format_.ensure_ascii, out);
      out->append(format_.key_separator);
      Write(entries[i]->second, depth + 1, out);
    }
    NewLine(depth, out);
    out->push_back('}');
  }

  const JsonFormat& format_;
  std::string item_separator_;
};

}  // namespace

Value FromJson(const nlohmann::ordered_json& json) { return FromJsonImpl(json); }
Value FromJson(const nlohmann::json& json) { return FromJsonImpl(json); }

std::string ToJson(const Value& value, const JsonFormat& format) {
  std::string out;
  JsonWriter(format).Write(value, 0, &out);
  return out;
}

}  // namespace lantern::jinja
