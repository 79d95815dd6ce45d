#include "telemetry/sdk.h"

#include <atomic>
#include <cstdlib>

#include "base/log.h"
#include "telemetry/console_exporter.h"
#include "telemetry/otlp_config.h"
#include "telemetry/otlp_file_exporter.h"
#include "telemetry/propagation.h"
#include "telemetry/resource.h"
#include "telemetry/tail_sampling.h"
#include "telemetry/tracer.h"

namespace lantern::telemetry {
namespace {

std::atomic<int64_t> g_exit_timeout_ms{5000};

void ShutdownAtExit() {
  Shutdown(std::chrono::milliseconds(g_exit_timeout_ms.load(std::memory_order_relaxed)));
}

bool Contains(const std::vector<std::string>& list, std::string_view name) {
  for (const std::string& item : list)
    if (item == name) return true;
  return false;
}

}  // namespace

std::vector<std::string> ChooseExporters(const EnvLookup& env, const TelemetryOptions& options) {
  std::vector<std::string> chosen;
  if (std::optional<std::string> value = EnvString(env, "OTEL_TRACES_EXPORTER")) {
    std::string_view rest = *value;
    bool none = false;
    while (true) {
      size_t comma = rest.find(',');
      std::string name = AsciiLower(TrimWhitespace(rest.substr(0, comma)));
      if (name == "none") {
        none = true;
      } else if (name == "otlp" || name == "console") {
        if (!Contains(chosen, name)) chosen.push_back(name);
      } else if (!name.empty()) {
        LANTERN_LOG(kWarning, "telemetry") << "OTEL_TRACES_EXPORTER: unsupported exporter \""
                                           << name << "\" ignored (supported: otlp, console, none)";
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    if (none) chosen.clear();
  } else if (EnvString(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") ||
             EnvString(env, "OTEL_EXPORTER_OTLP_ENDPOINT")) {
    chosen.push_back("otlp");  // an endpoint alone turns tracing on
  }
  if (!options.otlp_traces_endpoint.empty() && !Contains(chosen, "otlp")) {
    chosen.insert(chosen.begin(), "otlp");
  }
  return chosen;
}

Result<TelemetryConfig> Init(TelemetryOptions options) {
  const EnvLookup& env = options.env ? options.env : ProcessEnv();
  TelemetryConfig config;
  if (TracerProvider* previous = GlobalTracerProvider()) {
    SetGlobalTracerProvider(nullptr);
    previous->Shutdown(options.exit_timeout);
  }
  SetGlobalPropagator(PropagatorFromEnv(env));
  if (EnvBool(env, "OTEL_SDK_DISABLED")) {
    LANTERN_LOG(kInfo, "telemetry") << "tracing disabled by OTEL_SDK_DISABLED";
    return config;
  }

  std::vector<std::unique_ptr<SpanExporter>> exporters;
  for (const std::string& name : ChooseExporters(env, options)) {
    if (name == "otlp") {
      LANTERN_ASSIGN_OR_RETURN(OtlpExporterOptions otlp,
                               OtlpExporterOptionsFromEnv(env, options.otlp_traces_endpoint));
      config.otlp_endpoint = otlp.endpoint;
      LANTERN_ASSIGN_OR_RETURN(std::unique_ptr<SpanExporter> exporter,
                               CreateOtlpSpanExporter(otlp));
      exporters.push_back(std::move(exporter));
    } else {
      exporters.push_back(std::make_unique<ConsoleSpanExporter>());
    }
    config.exporters.push_back(name);
  }
  if (!options.traces_file.empty()) {
    Result<std::unique_ptr<OtlpFileExporter>> file = OtlpFileExporter::Open(options.traces_file);
    if (!file.ok()) return file.status();
    exporters.push_back(std::move(file).value());
    config.exporters.push_back("file");
  }
  for (auto& exporter : options.extra_exporters) {
    exporters.push_back(std::move(exporter));
    config.exporters.push_back("extra");
  }
  if (exporters.empty() && options.extra_processors.empty()) {
    return config;  // tracing stays off: no-op spans
  }

  TracerProviderOptions provider_options;
  provider_options.sampler = SamplerFromEnv(env);
  provider_options.limits = SpanLimitsFromEnv(env);
  provider_options.resource =
      BuildResource(env, options.default_service_name.empty()
                             ? std::nullopt
                             : std::optional<std::string_view>(options.default_service_name));
  config.batch = BatchSpanProcessorOptionsFromEnv(env);
  std::vector<std::unique_ptr<SpanProcessor>> exporting;
  for (auto& exporter : exporters) {
    exporting.push_back(std::make_unique<BatchSpanProcessor>(std::move(exporter), config.batch));
  }
  if (const TailSamplingOptions* tail = TailSamplingOptionsOf(*provider_options.sampler)) {
    // lantern_tail: every span records; the tail processor forwards the kept traces.
    auto tail_processor = std::make_unique<TailSamplingSpanProcessor>(*tail, std::move(exporting));
    exporting.clear();
    exporting.push_back(std::move(tail_processor));
  }
  for (auto& processor : exporting) provider_options.processors.push_back(std::move(processor));
  config.extra_processors = options.extra_processors.size();
  for (auto& processor : options.extra_processors) {
    provider_options.processors.push_back(std::move(processor));
  }
  config.enabled = true;
  config.sampler = provider_options.sampler->Description();
  config.limits = provider_options.limits;
  config.service_name = ResourceString(provider_options.resource, "service.name").value_or("");
  SetGlobalTracerProvider(std::make_unique<TracerProvider>(std::move(provider_options)));

  g_exit_timeout_ms.store(options.exit_timeout.count(), std::memory_order_relaxed);
  static std::atomic<bool> registered{false};
  if (options.shutdown_at_exit && !registered.exchange(true)) std::atexit(ShutdownAtExit);
  return config;
}

bool ForceFlush(std::chrono::milliseconds timeout) {
  TracerProvider* provider = GlobalTracerProvider();
  return provider == nullptr || provider->ForceFlush(timeout);
}

bool Shutdown(std::chrono::milliseconds timeout) {
  TracerProvider* provider = GlobalTracerProvider();
  return provider == nullptr || provider->Shutdown(timeout);
}

}  // namespace lantern::telemetry
