// AppendOtlpLogsJson (log_record.h): the protobuf JSON mapping with OTLP's rules —
// lowerCamelCase keys, trace/span ids as hex, 64-bit integers (fixed64) as decimal
// strings, enums as integers.
#include <cmath>
#include <nlohmann/json.hpp>

#include "telemetry/ids.h"
#include "telemetry/log_record.h"

namespace lantern::telemetry {
namespace {

using nlohmann::json;

template <size_t N>
std::string Hex(const std::array<uint8_t, N>& id) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t byte : id) {
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 15]);
  }
  return out;
}

json Double(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return value;
}

json AnyValue(const AttributeValue& value) {
  return std::visit(
      [](const auto& v) -> json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          return {{"boolValue", v}};
        } else if constexpr (std::is_same_v<T, int64_t>) {
          return {{"intValue", std::to_string(v)}};
        } else if constexpr (std::is_same_v<T, double>) {
          return {{"doubleValue", Double(v)}};
        } else if constexpr (std::is_same_v<T, std::string>) {
          return {{"stringValue", v}};
        } else {
          json values = json::array();
          for (const auto& element : v) {
            values.push_back(AnyValue(AttributeValue(typename T::value_type(element))));
          }
          return {{"arrayValue", {{"values", values}}}};
        }
      },
      value);
}

json KeyValue(std::string_view key, json value) {
  return {{"key", std::string(key)}, {"value", std::move(value)}};
}

json RecordJson(const LogRecordData& record) {
  json attributes = json::array();
  attributes.push_back(KeyValue("logger", {{"stringValue", record.logger}}));
  if (!record.file.empty()) {
    attributes.push_back(KeyValue("code.file.path", {{"stringValue", record.file}}));
    attributes.push_back(KeyValue("code.line.number", {{"intValue", std::to_string(record.line)}}));
  }
  json out = {
      {"timeUnixNano", std::to_string(record.time_unix_nano)},
      {"observedTimeUnixNano", std::to_string(record.observed_time_unix_nano)},
      {"severityNumber", SeverityNumber(record.level)},
      {"severityText", log::LevelName(record.level)},
      {"body", {{"stringValue", record.body}}},
      {"attributes", std::move(attributes)},
  };
  if (IsValid(record.trace_id)) {
    out["flags"] = record.trace_flags;
    out["traceId"] = Hex(record.trace_id);
    if (IsValid(record.span_id)) out["spanId"] = Hex(record.span_id);
  }
  return out;
}

}  // namespace

void AppendOtlpLogsJson(const LogBatch& batch, std::string* out) {
  json resource_attributes = json::array();
  if (batch.resource != nullptr) {
    for (const Attribute& attribute : batch.resource->attributes) {
      resource_attributes.push_back(
          KeyValue(std::string_view(attribute.key), AnyValue(attribute.value)));
    }
  }
  json scope = json::object();
  if (batch.scope != nullptr) {
    if (!batch.scope->name.empty()) scope["name"] = batch.scope->name;
    if (!batch.scope->version.empty()) scope["version"] = batch.scope->version;
  }
  json records = json::array();
  for (const auto& record : batch.records) records.push_back(RecordJson(*record));
  json request = {
      {"resourceLogs",
       json::array({{{"resource", {{"attributes", std::move(resource_attributes)}}},
                     {"scopeLogs", json::array({{{"scope", std::move(scope)},
                                                 {"logRecords", std::move(records)}}})}}})}};
  // Invalid UTF-8 (a client's bytes in a message) becomes U+FFFD rather than an exception.
  out->append(request.dump(-1, ' ', false, json::error_handler_t::replace));
}

}  // namespace lantern::telemetry
