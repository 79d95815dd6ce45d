// A log record as the logs SDK holds it between the logging thread and the exporter
// thread: a copy of what base/log wrote (base/ knows nothing of telemetry), with the
// trace context the writing thread carried. Fields follow OTLP's LogRecord.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "base/log.h"
#include "telemetry/span_data.h"

namespace lantern::telemetry {

struct LogRecordData {
  int64_t time_unix_nano = 0;           // when it was written
  int64_t observed_time_unix_nano = 0;  // when the SDK saw it (the same instant here)
  log::Level level = log::Level::kInfo;
  std::string logger;  // the component: "http", "engine", "serve"...
  std::string body;    // the message
  std::string file;    // the source file that wrote it, from "src/" on; "" when unknown
  int line = 0;
  TraceId trace_id{};  // all zero outside a request
  SpanId span_id{};
  uint8_t trace_flags = 0;
};

// Copies `record` (the sink's view) into an owned record.
std::unique_ptr<LogRecordData> MakeLogRecordData(const log::Record& record);

// OTLP's SeverityNumber for a level: DEBUG 5, INFO 9, WARN 13, ERROR 17.
int SeverityNumber(log::Level level);

// The records of one export, under the process's resource and the logs' scope.
struct LogBatch {
  const Resource* resource = nullptr;
  const InstrumentationScope* scope = nullptr;
  std::span<const std::unique_ptr<LogRecordData>> records;
};

// OTLP encodings of an ExportLogsServiceRequest (otlp_logs_wire.cc, otlp_logs_json.cc).
// Invalid UTF-8 in strings is replaced by U+FFFD. The JSON is one line, no newline.
void AppendOtlpLogsProtobuf(const LogBatch& batch, std::string* out);
void AppendOtlpLogsJson(const LogBatch& batch, std::string* out);

}  // namespace lantern::telemetry
