// Turning OTLP logs on for the process: every line base/log writes (LANTERN_LOG) also
// becomes an OTLP LogRecord — time, severity, body, the logger and code location as
// attributes, and the trace and span id of the request the writing thread was handling —
// under the same resource as the traces, through a batch processor that never blocks the
// logging thread. Configured by the standard variables: OTEL_LOGS_EXPORTER (otlp,
// console, none; default none, or otlp when OTEL_EXPORTER_OTLP_LOGS_ENDPOINT is set),
// OTEL_EXPORTER_OTLP_[LOGS_]* and OTEL_BLRP_*; OTEL_SDK_DISABLED=true turns it off.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "telemetry/batch_log_processor.h"
#include "telemetry/env.h"
#include "telemetry/log_exporter.h"

namespace lantern::telemetry {

struct LogsOptions {
  // Where OTEL_* variables are read; default: the process environment.
  EnvLookup env{};
  // service.name when the environment gives none (as TelemetryOptions).
  std::string default_service_name{};
  // Also export to this one (tests).
  std::unique_ptr<LogRecordExporter> extra_exporter{};
  bool shutdown_at_exit = true;
  std::chrono::milliseconds exit_timeout{5000};
};

// What InitLogs decided, for the start-up log line and tests.
struct LogsConfig {
  bool enabled = false;                // a sink was installed in base/log
  std::vector<std::string> exporters;  // "otlp", "console", "extra"
  std::string otlp_endpoint;
  BatchLogProcessorOptions batch;
};

// OTEL_LOGS_EXPORTER's list (unknown names warn and are skipped; "none" wins). Exposed
// for tests.
std::vector<std::string> ChooseLogExporters(const EnvLookup& env);

// Builds the exporters and their batch processors and installs the base/log sink (a
// previous one is shut down first). Errors: an exporter that cannot be built (e.g. a
// missing certificate file).
Result<LogsConfig> InitLogs(LogsOptions options);

// Export what is queued now / a last time and remove the sink; true when none installed.
bool ForceFlushLogs(std::chrono::milliseconds timeout);
bool ShutdownLogs(std::chrono::milliseconds timeout);

// The installed processors' counters, summed (zeros when none).
LogProcessorStats ReadLogsStats();

// Adds lantern.logs.dropped{reason} (queue_full, export_failed, shutdown) and
// lantern.logs.exported to the global meter provider, when one is installed.
void RegisterLogsMetrics();

}  // namespace lantern::telemetry
