#include "telemetry/log_record.h"

#include <algorithm>

namespace lantern::telemetry {

std::unique_ptr<LogRecordData> MakeLogRecordData(const log::Record& record) {
  auto data = std::make_unique<LogRecordData>();
  data->time_unix_nano =
      std::chrono::duration_cast<std::chrono::nanoseconds>(record.time.time_since_epoch()).count();
  data->observed_time_unix_nano = data->time_unix_nano;
  data->level = record.level;
  data->logger.assign(record.component);
  data->body.assign(record.message);
  if (record.file != nullptr) {
    // __FILE__ is the build's absolute path: keep it from the source tree's "src/" on.
    std::string_view file(record.file);
    size_t src = file.rfind("/src/");
    data->file.assign(src == std::string_view::npos ? file : file.substr(src + 1));
    data->line = record.line;
  }
  if (record.context != nullptr && record.context->valid()) {
    std::copy(record.context->trace_id.begin(), record.context->trace_id.end(),
              data->trace_id.begin());
    std::copy(record.context->span_id.begin(), record.context->span_id.end(),
              data->span_id.begin());
    data->trace_flags = record.context->trace_flags;
  }
  return data;
}

int SeverityNumber(log::Level level) {
  switch (level) {
    case log::Level::kDebug:
      return 5;
    case log::Level::kInfo:
      return 9;
    case log::Level::kWarning:
      return 13;
    case log::Level::kError:
      return 17;
  }
  return 0;
}

}  // namespace lantern::telemetry
