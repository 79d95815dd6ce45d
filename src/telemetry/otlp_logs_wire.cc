// AppendOtlpLogsProtobuf (log_record.h): field numbers are those of
// proto/opentelemetry/proto/logs/v1/logs.proto and collector/logs/v1/logs_service.proto.
#include "telemetry/ids.h"
#include "telemetry/log_record.h"
#include "telemetry/otlp_wire_writer.h"

namespace lantern::telemetry {
namespace {

using otlp_wire::Writer;

namespace field {
constexpr uint32_t kRequestResourceLogs = 1;
constexpr uint32_t kResourceLogsResource = 1, kResourceLogsScopeLogs = 2;
constexpr uint32_t kScopeLogsScope = 1, kScopeLogsRecords = 2;
constexpr uint32_t kTime = 1, kSeverityNumber = 2, kSeverityText = 3, kBody = 5, kAttributes = 6,
                   kFlags = 8, kTraceId = 9, kSpanId = 10, kObservedTime = 11;
}  // namespace field

void WriteStringAttribute(Writer& w, std::string_view key, std::string_view value) {
  size_t kv = w.BeginMessage(field::kAttributes);
  w.StringField(otlp_wire::common_field::kKeyValueKey, key);
  size_t any = w.BeginMessage(otlp_wire::common_field::kKeyValueValue);
  w.StringField(otlp_wire::common_field::kAnyString, value);
  w.EndMessage(any);
  w.EndMessage(kv);
}

void WriteIntAttribute(Writer& w, std::string_view key, int64_t value) {
  size_t kv = w.BeginMessage(field::kAttributes);
  w.StringField(otlp_wire::common_field::kKeyValueKey, key);
  size_t any = w.BeginMessage(otlp_wire::common_field::kKeyValueValue);
  w.VarintField(otlp_wire::common_field::kAnyInt, static_cast<uint64_t>(value));
  w.EndMessage(any);
  w.EndMessage(kv);
}

void WriteRecord(Writer& w, const LogRecordData& record) {
  size_t r = w.BeginMessage(field::kScopeLogsRecords);
  w.Fixed64FieldIfSet(field::kTime, static_cast<uint64_t>(record.time_unix_nano));
  w.VarintFieldIfSet(field::kSeverityNumber, static_cast<uint64_t>(SeverityNumber(record.level)));
  w.StringField(field::kSeverityText, log::LevelName(record.level));
  size_t body = w.BeginMessage(field::kBody);
  w.StringField(otlp_wire::common_field::kAnyString, record.body);
  w.EndMessage(body);
  WriteStringAttribute(w, "logger", record.logger);
  if (!record.file.empty()) {
    WriteStringAttribute(w, "code.file.path", record.file);
    WriteIntAttribute(w, "code.line.number", record.line);
  }
  if (IsValid(record.trace_id)) {
    w.Fixed32FieldIfSet(field::kFlags, record.trace_flags);
    w.BytesField(field::kTraceId, record.trace_id.data(), record.trace_id.size());
    if (IsValid(record.span_id)) {
      w.BytesField(field::kSpanId, record.span_id.data(), record.span_id.size());
    }
  }
  w.Fixed64FieldIfSet(field::kObservedTime, static_cast<uint64_t>(record.observed_time_unix_nano));
  w.EndMessage(r);
}

}  // namespace

void AppendOtlpLogsProtobuf(const LogBatch& batch, std::string* out) {
  Writer w(out);
  size_t resource_logs = w.BeginMessage(field::kRequestResourceLogs);
  size_t resource = w.BeginMessage(field::kResourceLogsResource);
  otlp_wire::WriteResourceBody(w, batch.resource);
  w.EndMessage(resource);
  size_t scope_logs = w.BeginMessage(field::kResourceLogsScopeLogs);
  size_t scope = w.BeginMessage(field::kScopeLogsScope);
  otlp_wire::WriteScopeBody(w, batch.scope);
  w.EndMessage(scope);
  for (const auto& record : batch.records) WriteRecord(w, *record);
  w.EndMessage(scope_logs);
  w.EndMessage(resource_logs);
}

}  // namespace lantern::telemetry
