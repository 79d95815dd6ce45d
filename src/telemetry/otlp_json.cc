#include "telemetry/otlp_json.h"

#include <charconv>
#include <cmath>

#include "telemetry/otlp_grouping.h"

namespace lantern::telemetry {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

void AppendQuoted(std::string_view text, std::string* out) {
  std::string sanitized;
  if (!IsValidUtf8(text)) {
    sanitized = ToValidUtf8(text);
    text = sanitized;
  }
  out->push_back('"');
  size_t run_start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(text.substr(run_start, i - run_start));
    run_start = i + 1;
    switch (c) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\r':
        *out += "\\r";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '\b':
        *out += "\\b";
        break;
      case '\f':
        *out += "\\f";
        break;
      default:
        *out += "\\u00";
        out->push_back(kHexDigits[c >> 4]);
        out->push_back(kHexDigits[c & 15]);
    }
  }
  out->append(text.substr(run_start));
  out->push_back('"');
}

template <typename Int>
void AppendInt(Int value, std::string* out) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  out->append(buffer, end);
}

// int64 and fixed64 are JSON strings in the protobuf JSON mapping.
template <typename Int>
void AppendQuotedInt(Int value, std::string* out) {
  out->push_back('"');
  AppendInt(value, out);
  out->push_back('"');
}

void AppendDouble(double value, std::string* out) {
  if (std::isnan(value)) {
    *out += "\"NaN\"";
  } else if (std::isinf(value)) {
    *out += value > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
    out->append(buffer, end);
  }
}

template <size_t N>
void AppendHexId(const std::array<uint8_t, N>& id, std::string* out) {
  out->push_back('"');
  for (uint8_t byte : id) {
    out->push_back(kHexDigits[byte >> 4]);
    out->push_back(kHexDigits[byte & 15]);
  }
  out->push_back('"');
}

template <size_t N>
bool IsZero(const std::array<uint8_t, N>& id) {
  for (uint8_t byte : id) {
    if (byte != 0) return false;
  }
  return true;
}

// Writes `"key":` preceded by a comma unless it opens the object.
void Key(std::string_view key, bool* first, std::string* out) {
  if (!*first) out->push_back(',');
  *first = false;
  out->push_back('"');
  out->append(key);
  *out += "\":";
}

template <typename T, typename Fn>
void AppendArrayValue(const std::vector<T>& values, Fn append_element, std::string* out) {
  *out += "{\"arrayValue\":{\"values\":[";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out->push_back(',');
    append_element(values[i]);
  }
  *out += "]}}";
}

void AppendAnyValue(const AttributeValue& value, std::string* out) {
  auto string_value = [out](const std::string& v) {
    *out += "{\"stringValue\":";
    AppendQuoted(v, out);
    out->push_back('}');
  };
  auto bool_value = [out](bool v) { *out += v ? "{\"boolValue\":true}" : "{\"boolValue\":false}"; };
  auto int_value = [out](int64_t v) {
    *out += "{\"intValue\":";
    AppendQuotedInt(v, out);
    out->push_back('}');
  };
  auto double_value = [out](double v) {
    *out += "{\"doubleValue\":";
    AppendDouble(v, out);
    out->push_back('}');
  };
  switch (value.index()) {
    case 0:
      bool_value(std::get<bool>(value));
      break;
    case 1:
      int_value(std::get<int64_t>(value));
      break;
    case 2:
      double_value(std::get<double>(value));
      break;
    case 3:
      string_value(std::get<std::string>(value));
      break;
    case 4:
      AppendArrayValue(std::get<std::vector<bool>>(value), bool_value, out);
      break;
    case 5:
      AppendArrayValue(std::get<std::vector<int64_t>>(value), int_value, out);
      break;
    case 6:
      AppendArrayValue(std::get<std::vector<double>>(value), double_value, out);
      break;
    case 7:
      AppendArrayValue(std::get<std::vector<std::string>>(value), string_value, out);
      break;
  }
}

// "attributes":[...] and "droppedAttributesCount", each only when non-empty.
void AppendAttributes(const Attributes& attributes, uint32_t dropped, bool* first,
                      std::string* out) {
  if (!attributes.empty()) {
    Key("attributes", first, out);
    out->push_back('[');
    for (size_t i = 0; i < attributes.size(); ++i) {
      if (i > 0) out->push_back(',');
      *out += "{\"key\":";
      AppendQuoted(attributes[i].key, out);
      *out += ",\"value\":";
      AppendAnyValue(attributes[i].value, out);
      out->push_back('}');
    }
    out->push_back(']');
  }
  if (dropped != 0) {
    Key("droppedAttributesCount", first, out);
    AppendInt(dropped, out);
  }
}

void AppendString(std::string_view key, const std::string& value, bool* first, std::string* out) {
  if (value.empty()) return;
  Key(key, first, out);
  AppendQuoted(value, out);
}

void AppendCount(std::string_view key, uint32_t value, bool* first, std::string* out) {
  if (value == 0) return;
  Key(key, first, out);
  AppendInt(value, out);
}

void AppendSpan(const SpanData& span, std::string* out) {
  bool first = true;
  out->push_back('{');
  Key("traceId", &first, out);
  AppendHexId(span.trace_id, out);
  Key("spanId", &first, out);
  AppendHexId(span.span_id, out);
  AppendString("traceState", span.trace_state, &first, out);
  if (!IsZero(span.parent_span_id)) {
    Key("parentSpanId", &first, out);
    AppendHexId(span.parent_span_id, out);
  }
  AppendCount("flags", span.flags, &first, out);
  Key("name", &first, out);
  AppendQuoted(span.name, out);
  Key("kind", &first, out);
  AppendInt(static_cast<int>(span.kind), out);
  Key("startTimeUnixNano", &first, out);
  AppendQuotedInt(static_cast<uint64_t>(span.start_time_unix_nano), out);
  Key("endTimeUnixNano", &first, out);
  AppendQuotedInt(static_cast<uint64_t>(span.end_time_unix_nano), out);
  AppendAttributes(span.attributes, span.dropped_attributes_count, &first, out);
  if (!span.events.empty()) {
    Key("events", &first, out);
    out->push_back('[');
    for (size_t i = 0; i < span.events.size(); ++i) {
      const SpanEvent& event = span.events[i];
      if (i > 0) out->push_back(',');
      bool event_first = true;
      out->push_back('{');
      Key("timeUnixNano", &event_first, out);
      AppendQuotedInt(static_cast<uint64_t>(event.time_unix_nano), out);
      Key("name", &event_first, out);
      AppendQuoted(event.name, out);
      AppendAttributes(event.attributes, event.dropped_attributes_count, &event_first, out);
      out->push_back('}');
    }
    out->push_back(']');
  }
  AppendCount("droppedEventsCount", span.dropped_events_count, &first, out);
  if (!span.links.empty()) {
    Key("links", &first, out);
    out->push_back('[');
    for (size_t i = 0; i < span.links.size(); ++i) {
      const SpanLink& link = span.links[i];
      if (i > 0) out->push_back(',');
      bool link_first = true;
      out->push_back('{');
      Key("traceId", &link_first, out);
      AppendHexId(link.trace_id, out);
      Key("spanId", &link_first, out);
      AppendHexId(link.span_id, out);
      AppendString("traceState", link.trace_state, &link_first, out);
      AppendAttributes(link.attributes, link.dropped_attributes_count, &link_first, out);
      AppendCount("flags", link.flags, &link_first, out);
      out->push_back('}');
    }
    out->push_back(']');
  }
  AppendCount("droppedLinksCount", span.dropped_links_count, &first, out);
  if (span.status_code != StatusCode::kUnset || !span.status_message.empty()) {
    Key("status", &first, out);
    bool status_first = true;
    out->push_back('{');
    AppendString("message", span.status_message, &status_first, out);
    AppendCount("code", static_cast<uint32_t>(span.status_code), &status_first, out);
    out->push_back('}');
  }
  out->push_back('}');
}

}  // namespace

void AppendOtlpJson(std::span<const SpanData* const> spans, std::string* out) {
  *out += "{\"resourceSpans\":[";
  bool first_resource = true;
  for (const OtlpResourceGroup& group : GroupByResourceAndScope(spans)) {
    if (!first_resource) out->push_back(',');
    first_resource = false;
    *out += "{\"resource\":{";
    bool first = true;
    if (group.resource != nullptr) {
      AppendAttributes(group.resource->attributes, 0, &first, out);
    }
    *out += "},\"scopeSpans\":[";
    bool first_scope = true;
    for (const OtlpScopeGroup& scope_group : group.scopes) {
      if (!first_scope) out->push_back(',');
      first_scope = false;
      *out += "{\"scope\":{";
      bool scope_first = true;
      if (scope_group.scope != nullptr) {
        AppendString("name", scope_group.scope->name, &scope_first, out);
        AppendString("version", scope_group.scope->version, &scope_first, out);
      }
      *out += "},\"spans\":[";
      for (size_t i = 0; i < scope_group.spans.size(); ++i) {
        if (i > 0) out->push_back(',');
        AppendSpan(*scope_group.spans[i], out);
      }
      *out += "]}";
    }
    *out += "]}";
  }
  *out += "]}";
}

}  // namespace lantern::telemetry
