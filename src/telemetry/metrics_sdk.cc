#include "telemetry/metrics_sdk.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "base/log.h"
#include "telemetry/otlp_config.h"
#include "telemetry/otlp_metric_exporter.h"
#include "telemetry/otlp_metrics.h"
#include "telemetry/resource.h"

namespace lantern::telemetry {
namespace {

constexpr char kLog[] = "metrics";

std::mutex g_mutex;
std::unique_ptr<PeriodicMetricReader>* g_reader = new std::unique_ptr<PeriodicMetricReader>();
std::atomic<int64_t> g_exit_timeout_ms{5000};

void ShutdownAtExit() {
  ShutdownMetrics(std::chrono::milliseconds(g_exit_timeout_ms.load(std::memory_order_relaxed)));
}

// Writes each collection as one OTLP/JSON line on standard output.
class ConsoleMetricExporter final : public MetricExporter {
 public:
  ExportResult Export(const ResourceMetrics& metrics) override {
    std::string line;
    AppendOtlpMetricsJson(metrics, &line);
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
    return ExportResult::kSuccess;
  }
};

// Fans one collection out to several exporters.
class MultiMetricExporter final : public MetricExporter {
 public:
  explicit MultiMetricExporter(std::vector<std::unique_ptr<MetricExporter>> exporters)
      : exporters_(std::move(exporters)) {}
  ExportResult Export(const ResourceMetrics& metrics) override {
    ExportResult result = ExportResult::kSuccess;
    for (auto& exporter : exporters_) {
      if (exporter->Export(metrics) != ExportResult::kSuccess) result = ExportResult::kFailure;
    }
    return result;
  }
  bool Shutdown(std::chrono::microseconds timeout) override {
    bool ok = true;
    for (auto& exporter : exporters_) ok = exporter->Shutdown(timeout) && ok;
    return ok;
  }

 private:
  std::vector<std::unique_ptr<MetricExporter>> exporters_;
};

std::optional<std::string> Lower(const EnvLookup& env, std::string_view name) {
  std::optional<std::string> value = EnvString(env, name);
  if (!value) return std::nullopt;
  return AsciiLower(TrimWhitespace(*value));
}

void WarnIgnored(std::string_view name, std::string_view value, std::string_view expected) {
  LANTERN_LOG(kWarning, kLog) << name << "=\"" << value << "\" ignored: expected " << expected;
}

}  // namespace

std::vector<std::string> ChooseMetricExporters(const EnvLookup& env) {
  std::vector<std::string> chosen;
  std::optional<std::string> value = Lower(env, "OTEL_METRICS_EXPORTER");
  if (!value) {
    // Zero-config: an OTLP endpoint alone turns the OTLP exporter on, as for traces.
    if (EnvString(env, "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT") ||
        EnvString(env, "OTEL_EXPORTER_OTLP_ENDPOINT")) {
      chosen.push_back("otlp");
    }
    return chosen;
  }
  std::string_view rest = *value;
  while (true) {
    size_t comma = rest.find(',');
    std::string name(TrimWhitespace(rest.substr(0, comma)));
    if (name == "otlp" || name == "console" || name == "prometheus" || name == "none") {
      if (std::find(chosen.begin(), chosen.end(), name) == chosen.end()) chosen.push_back(name);
    } else if (!name.empty()) {
      LANTERN_LOG(kWarning, kLog) << "OTEL_METRICS_EXPORTER: unsupported exporter \"" << name
                                  << "\" ignored (supported: otlp, prometheus, console, none)";
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (std::find(chosen.begin(), chosen.end(), "none") != chosen.end()) chosen = {"none"};
  return chosen;
}

TemporalityPreference TemporalityPreferenceFromEnv(const EnvLookup& env) {
  constexpr char kName[] = "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE";
  std::optional<std::string> value = Lower(env, kName);
  if (!value || *value == "cumulative") return TemporalityPreference::kCumulative;
  if (*value == "delta") return TemporalityPreference::kDelta;
  if (*value == "lowmemory") return TemporalityPreference::kLowMemory;
  WarnIgnored(kName, *value, "cumulative, delta or lowmemory");
  return TemporalityPreference::kCumulative;
}

AggregationKind DefaultHistogramAggregationFromEnv(const EnvLookup& env) {
  constexpr char kName[] = "OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION";
  std::optional<std::string> value = Lower(env, kName);
  if (!value || *value == "explicit_bucket_histogram") return AggregationKind::kExplicitHistogram;
  if (*value == "base2_exponential_bucket_histogram") return AggregationKind::kExponentialHistogram;
  WarnIgnored(kName, *value, "explicit_bucket_histogram or base2_exponential_bucket_histogram");
  return AggregationKind::kExplicitHistogram;
}

ExemplarFilter ExemplarFilterFromEnv(const EnvLookup& env) {
  constexpr char kName[] = "OTEL_METRICS_EXEMPLAR_FILTER";
  std::optional<std::string> value = Lower(env, kName);
  if (!value || *value == "trace_based") return ExemplarFilter::kTraceBased;
  if (*value == "always_on") return ExemplarFilter::kAlwaysOn;
  if (*value == "always_off") return ExemplarFilter::kAlwaysOff;
  WarnIgnored(kName, *value, "trace_based, always_on or always_off");
  return ExemplarFilter::kTraceBased;
}

PeriodicReaderOptions PeriodicReaderOptionsFromEnv(const EnvLookup& env) {
  PeriodicReaderOptions options;
  for (auto [name, target] : {std::pair{"OTEL_METRIC_EXPORT_INTERVAL", &options.interval},
                              std::pair{"OTEL_METRIC_EXPORT_TIMEOUT", &options.timeout}}) {
    std::optional<std::chrono::milliseconds> value = EnvMillis(env, name);
    if (!value) continue;
    if (value->count() <= 0) {
      WarnIgnored(name, std::to_string(value->count()), "a positive number of milliseconds");
      continue;
    }
    *target = *value;
  }
  return options;
}

Result<MetricsConfig> InitMetrics(MetricsOptions options) {
  const EnvLookup& env = options.env ? options.env : ProcessEnv();
  MetricsConfig config;
  ShutdownMetrics(options.exit_timeout);
  SetGlobalMeterProvider(nullptr);
  if (EnvBool(env, "OTEL_SDK_DISABLED")) return config;
  std::vector<std::string> chosen = ChooseMetricExporters(env);
  if (chosen.size() == 1 && chosen[0] == "none") {
    config.prometheus = false;
    return config;
  }
  config.temporality = TemporalityPreferenceFromEnv(env);
  config.default_histogram = DefaultHistogramAggregationFromEnv(env);
  config.exemplar_filter = ExemplarFilterFromEnv(env);
  config.reader = PeriodicReaderOptionsFromEnv(env);

  std::vector<std::unique_ptr<MetricExporter>> exporters;
  for (const std::string& name : chosen) {
    if (name == "otlp") {
      LANTERN_ASSIGN_OR_RETURN(OtlpExporterOptions otlp,
                               OtlpExporterOptionsFromEnv(env, "", OtlpSignal::kMetrics));
      config.otlp_endpoint = otlp.endpoint;
      LANTERN_ASSIGN_OR_RETURN(std::unique_ptr<OtlpMetricExporter> exporter,
                               CreateOtlpMetricExporter(otlp));
      exporters.push_back(std::move(exporter));
    } else if (name == "console") {
      exporters.push_back(std::make_unique<ConsoleMetricExporter>());
    } else {
      continue;  // prometheus: the server's /metrics, always served
    }
    config.exporters.push_back(name);
  }
  if (options.extra_exporter) {
    exporters.push_back(std::move(options.extra_exporter));
    config.exporters.push_back("extra");
  }

  MeterProviderOptions provider_options;
  provider_options.resource =
      BuildResource(env, options.default_service_name.empty()
                             ? std::nullopt
                             : std::optional<std::string_view>(options.default_service_name));
  provider_options.views = std::move(options.views);
  provider_options.temporality = config.temporality;
  provider_options.default_histogram = config.default_histogram;
  provider_options.exemplar_filter = config.exemplar_filter;
  auto provider = std::make_unique<MeterProvider>(std::move(provider_options));
  MeterProvider* installed = provider.get();
  SetGlobalMeterProvider(std::move(provider));
  config.enabled = true;
  if (!exporters.empty()) {
    std::unique_ptr<MetricExporter> exporter =
        exporters.size() == 1 ? std::move(exporters[0])
                              : std::make_unique<MultiMetricExporter>(std::move(exporters));
    std::lock_guard lock(g_mutex);
    *g_reader =
        std::make_unique<PeriodicMetricReader>(installed, std::move(exporter), config.reader);
  }
  g_exit_timeout_ms.store(options.exit_timeout.count(), std::memory_order_relaxed);
  static std::atomic<bool> registered{false};
  if (options.shutdown_at_exit && !registered.exchange(true)) std::atexit(ShutdownAtExit);
  return config;
}

bool ForceFlushMetrics(std::chrono::milliseconds timeout) {
  std::lock_guard lock(g_mutex);
  return *g_reader == nullptr || (*g_reader)->ForceFlush(timeout);
}

bool ShutdownMetrics(std::chrono::milliseconds timeout) {
  std::unique_ptr<PeriodicMetricReader> reader;
  {
    std::lock_guard lock(g_mutex);
    reader = std::move(*g_reader);
  }
  return reader == nullptr || reader->Shutdown(timeout);
}

}  // namespace lantern::telemetry
