// Turning tracing on for the process: Init builds the tracer provider from the OTEL_*
// environment plus the command line's overrides and installs it as the global one, as a
// Kubernetes operator's injected environment expects. Tracing is on when an OTLP endpoint
// is configured (flag or OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT), when OTEL_TRACES_EXPORTER
// names an exporter, or when a traces file is given; OTEL_SDK_DISABLED=true turns it off.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "telemetry/batch_span_processor.h"
#include "telemetry/env.h"
#include "telemetry/exporter.h"
#include "telemetry/span_limits.h"
#include "telemetry/span_processor.h"

namespace lantern::telemetry {

struct TelemetryOptions {
  // --otlp-traces-endpoint: an OTLP endpoint used as is (like ..._TRACES_ENDPOINT); turns
  // tracing on with the OTLP exporter whatever OTEL_TRACES_EXPORTER says.
  std::string otlp_traces_endpoint;
  // Also write OTLP JSON lines here ("-": standard output). Empty: none.
  std::string traces_file;
  // service.name when neither OTEL_SERVICE_NAME nor OTEL_RESOURCE_ATTRIBUTES gives one;
  // empty: "unknown_service:<executable>".
  std::string default_service_name;
  // Where OTEL_* variables are read; default: the process environment.
  EnvLookup env;
  // Flush and shut down from an atexit handler, within this deadline.
  bool shutdown_at_exit = true;
  std::chrono::milliseconds exit_timeout{5000};
  // Additional exporters (each behind its own batch processor), e.g. for tests.
  std::vector<std::unique_ptr<SpanExporter>> extra_exporters;
  // Processors beside the exporters' (e.g. the built-in viewer's ring of recent traces).
  // They turn tracing on by themselves, with the configured sampler, even when no
  // exporter is configured.
  std::vector<std::unique_ptr<SpanProcessor>> extra_processors;
};

// What Init decided, for the start-up log line and for tests.
struct TelemetryConfig {
  bool enabled = false;
  std::vector<std::string> exporters;  // "otlp", "console", "file", "extra"
  size_t extra_processors = 0;          // TelemetryOptions::extra_processors installed
  std::string otlp_endpoint;           // as resolved by the OTLP half
  std::string sampler;                 // the sampler's description
  std::string service_name;
  SpanLimits limits;
  BatchSpanProcessorOptions batch;
};

// The exporters OTEL_TRACES_EXPORTER and the flags ask for: "otlp", "console" (others warn
// and are skipped; "none" means none). Exposed for tests.
std::vector<std::string> ChooseExporters(const EnvLookup& env, const TelemetryOptions& options);

// Builds and installs the global provider and propagator. A previous global provider is
// shut down first. Errors: an exporter that cannot be built (e.g. a missing certificate).
Result<TelemetryConfig> Init(TelemetryOptions options);

// Flush / shut down the global provider (true when none is installed).
bool ForceFlush(std::chrono::milliseconds timeout);
bool Shutdown(std::chrono::milliseconds timeout);

}  // namespace lantern::telemetry
