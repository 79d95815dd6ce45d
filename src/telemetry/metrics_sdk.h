// Turning metrics on for the process, from the standard environment: OTEL_METRICS_EXPORTER
// (otlp, prometheus, console, none), OTEL_EXPORTER_OTLP_[METRICS_]* (endpoint, protocol,
// headers, timeout, compression, insecure, certificates), OTEL_METRIC_EXPORT_INTERVAL and
// _TIMEOUT, OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE,
// OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION, OTEL_METRICS_EXEMPLAR_FILTER.
// Like tracing, an OTLP endpoint alone (an operator's injected environment) turns the OTLP
// exporter on; OTEL_SDK_DISABLED=true turns it off.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "telemetry/env.h"
#include "telemetry/meter_provider.h"
#include "telemetry/metric_reader.h"

namespace lantern::telemetry {

struct MetricsOptions {
  // Where OTEL_* variables are read; default: the process environment.
  EnvLookup env{};
  // service.name when the environment gives none (as TelemetryOptions).
  std::string default_service_name{};
  std::vector<View> views{};
  // Also export to this one (tests).
  std::unique_ptr<MetricExporter> extra_exporter{};
  bool shutdown_at_exit = true;
  std::chrono::milliseconds exit_timeout{5000};
};

// What InitMetrics decided, for the start-up log line and tests.
struct MetricsConfig {
  bool enabled = false;                // a provider was installed
  std::vector<std::string> exporters;  // "otlp", "console", "extra"
  bool prometheus = true;              // /metrics is served (always, unless "none" alone)
  std::string otlp_endpoint;
  PeriodicReaderOptions reader;
  TemporalityPreference temporality = TemporalityPreference::kCumulative;
  AggregationKind default_histogram = AggregationKind::kExplicitHistogram;
  ExemplarFilter exemplar_filter = ExemplarFilter::kTraceBased;
};

// Parsers of the individual variables (bad values warn and give the default). Exposed
// for tests.
std::vector<std::string> ChooseMetricExporters(const EnvLookup& env);
TemporalityPreference TemporalityPreferenceFromEnv(const EnvLookup& env);
AggregationKind DefaultHistogramAggregationFromEnv(const EnvLookup& env);
ExemplarFilter ExemplarFilterFromEnv(const EnvLookup& env);
PeriodicReaderOptions PeriodicReaderOptionsFromEnv(const EnvLookup& env);

// Installs the global meter provider (telemetry/meter_provider.h) and, when an exporter
// is chosen, a periodic reader exporting it. The provider is installed whenever metrics
// are not disabled, so instruments aggregate even with only "prometheus". Errors: an
// exporter that cannot be built (e.g. a missing certificate file).
Result<MetricsConfig> InitMetrics(MetricsOptions options);

// Collect and export now / a last time; true when nothing is installed.
bool ForceFlushMetrics(std::chrono::milliseconds timeout);
bool ShutdownMetrics(std::chrono::milliseconds timeout);

}  // namespace lantern::telemetry
