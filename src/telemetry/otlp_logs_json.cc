// AppendOtlpLogsJson (log_record.h): the protobuf JSON mapping with OTLP's rules —
// lowerCamelCase keys, trace/span ids as hex, 64-bit integers (fixed64) as decimal
// strings, enums as integers.
#include <nlohmann/json.hpp>

#include "telemetry/ids.h"
#include "telemetry/log_record.h"
#include "telemetry/otlp_json_value.h"

namespace lantern::telemetry {
namespace {

using nlohmann::json;

using otlp_json::AnyValue;
using otlp_json::Double;
using otlp_json::Hex;
using otlp_json::KeyValue;

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
