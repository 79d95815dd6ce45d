#include "telemetry/logs_sdk.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "base/log.h"
#include "telemetry/meter_provider.h"
#include "telemetry/otlp_config.h"
#include "telemetry/otlp_log_exporter.h"
#include "telemetry/resource.h"

namespace lantern::telemetry {
namespace {

constexpr char kLog[] = "telemetry";

// The processors records go to; replaced whole by InitLogs and ShutdownLogs. A writer
// holds its own reference while it emits, so a shutdown never frees one in use.
struct Pipeline {
  std::vector<std::unique_ptr<BatchLogProcessor>> processors;
};
std::mutex g_mutex;
std::shared_ptr<Pipeline>* g_pipeline = new std::shared_ptr<Pipeline>();
std::atomic<int64_t> g_exit_timeout_ms{5000};
// The counts of pipelines already shut down, so that the metric stays monotonic.
LogProcessorStats* g_retired = new LogProcessorStats();  // guarded by g_mutex

std::shared_ptr<Pipeline> CurrentPipeline() {
  std::lock_guard lock(g_mutex);
  return *g_pipeline;
}

// The base/log sink: on the writing thread, never blocking on the exporters.
void Emit(const log::Record& record) {
  if (OnLogExportThread()) return;  // the exporter's own complaints stay on stderr
  std::shared_ptr<Pipeline> pipeline = CurrentPipeline();
  if (pipeline == nullptr) return;
  for (auto& processor : pipeline->processors) processor->OnEmit(MakeLogRecordData(record));
}

// Writes each batch as one OTLP/JSON line on standard output.
class ConsoleLogExporter final : public LogRecordExporter {
 public:
  ConsoleLogExporter(Resource resource, InstrumentationScope scope)
      : resource_(std::move(resource)), scope_(std::move(scope)) {}
  ExportResult Export(std::span<const std::unique_ptr<LogRecordData>> records) override {
    std::string line;
    AppendOtlpLogsJson({&resource_, &scope_, records}, &line);
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
    return ExportResult::kSuccess;
  }

 private:
  const Resource resource_;
  const InstrumentationScope scope_;
};

void Add(LogProcessorStats& total, const LogProcessorStats& more) {
  total.emitted += more.emitted;
  total.exported += more.exported;
  total.dropped_queue_full += more.dropped_queue_full;
  total.dropped_export_failed += more.dropped_export_failed;
  total.dropped_shutdown += more.dropped_shutdown;
}

void ShutdownAtExit() {
  ShutdownLogs(std::chrono::milliseconds(g_exit_timeout_ms.load(std::memory_order_relaxed)));
}

}  // namespace

std::vector<std::string> ChooseLogExporters(const EnvLookup& env) {
  std::vector<std::string> chosen;
  std::optional<std::string> value = EnvString(env, "OTEL_LOGS_EXPORTER");
  if (!value) {
    // A logs endpoint of its own says where logs should go; the generic endpoint alone
    // does not turn logs on (they can outweigh the traces).
    if (EnvString(env, "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT")) chosen.push_back("otlp");
    return chosen;
  }
  std::string lower = AsciiLower(*value);
  std::string_view rest = lower;
  while (true) {
    size_t comma = rest.find(',');
    std::string name(TrimWhitespace(rest.substr(0, comma)));
    if (name == "otlp" || name == "console" || name == "none") {
      if (std::find(chosen.begin(), chosen.end(), name) == chosen.end()) chosen.push_back(name);
    } else if (!name.empty()) {
      LANTERN_LOG(kWarning, kLog) << "OTEL_LOGS_EXPORTER: unsupported exporter \"" << name
                                  << "\" ignored (supported: otlp, console, none)";
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (std::find(chosen.begin(), chosen.end(), "none") != chosen.end()) chosen.clear();
  return chosen;
}

Result<LogsConfig> InitLogs(LogsOptions options) {
  const EnvLookup& env = options.env ? options.env : ProcessEnv();
  LogsConfig config;
  ShutdownLogs(options.exit_timeout);
  if (EnvBool(env, "OTEL_SDK_DISABLED")) return config;
  std::vector<std::string> chosen = ChooseLogExporters(env);
  if (chosen.empty() && !options.extra_exporter) return config;
  config.batch = BatchLogProcessorOptionsFromEnv(env);

  // The traces' resource: the same detection over the same environment.
  Resource resource =
      BuildResource(env, options.default_service_name.empty()
                             ? std::nullopt
                             : std::optional<std::string_view>(options.default_service_name));
  InstrumentationScope scope{"lantern", ""};
  std::vector<std::unique_ptr<LogRecordExporter>> exporters;
  for (const std::string& name : chosen) {
    if (name == "otlp") {
      LANTERN_ASSIGN_OR_RETURN(OtlpExporterOptions otlp,
                               OtlpExporterOptionsFromEnv(env, "", OtlpSignal::kLogs));
      config.otlp_endpoint = otlp.endpoint;
      LANTERN_ASSIGN_OR_RETURN(std::unique_ptr<OtlpLogExporter> exporter,
                               CreateOtlpLogExporter(otlp, resource, scope));
      exporters.push_back(std::move(exporter));
    } else {
      exporters.push_back(std::make_unique<ConsoleLogExporter>(resource, scope));
    }
    config.exporters.push_back(name);
  }
  if (options.extra_exporter) {
    exporters.push_back(std::move(options.extra_exporter));
    config.exporters.push_back("extra");
  }
  auto pipeline = std::make_shared<Pipeline>();
  for (auto& exporter : exporters) {
    pipeline->processors.push_back(
        std::make_unique<BatchLogProcessor>(std::move(exporter), config.batch));
  }
  {
    std::lock_guard lock(g_mutex);
    *g_pipeline = std::move(pipeline);
  }
  log::SetSink(&Emit);
  config.enabled = true;
  g_exit_timeout_ms.store(options.exit_timeout.count(), std::memory_order_relaxed);
  static std::atomic<bool> registered{false};
  if (options.shutdown_at_exit && !registered.exchange(true)) std::atexit(ShutdownAtExit);
  return config;
}

bool ForceFlushLogs(std::chrono::milliseconds timeout) {
  std::shared_ptr<Pipeline> pipeline = CurrentPipeline();
  if (pipeline == nullptr) return true;
  bool ok = true;
  for (auto& processor : pipeline->processors) ok = processor->ForceFlush(timeout) && ok;
  return ok;
}

bool ShutdownLogs(std::chrono::milliseconds timeout) {
  std::shared_ptr<Pipeline> pipeline;
  {
    std::lock_guard lock(g_mutex);
    pipeline = std::move(*g_pipeline);
  }
  if (pipeline == nullptr) return true;
  bool ok = true;
  for (auto& processor : pipeline->processors) ok = processor->Shutdown(timeout) && ok;
  std::lock_guard lock(g_mutex);
  for (auto& processor : pipeline->processors) Add(*g_retired, processor->stats());
  return ok;
}

LogProcessorStats ReadLogsStats() {
  std::lock_guard lock(g_mutex);
  LogProcessorStats total = *g_retired;
  if (*g_pipeline != nullptr) {
    for (auto& processor : (*g_pipeline)->processors) Add(total, processor->stats());
  }
  return total;
}

void RegisterLogsMetrics() {
  if (GlobalMeterProvider() == nullptr) return;
  Meter meter = GlobalMeter("lantern.logs");
  meter.CreateObservableCounter(
      "lantern.logs.dropped",
      {.description = "Log records not exported, by reason",
       .unit = "{log_record}",
       .integer = true},
      [] {
        LogProcessorStats s = ReadLogsStats();
        auto reason = [](const char* r) { return Attributes{{"reason", std::string(r)}}; };
        return std::vector<Observation>{{reason("queue_full"), double(s.dropped_queue_full)},
                                        {reason("export_failed"), double(s.dropped_export_failed)},
                                        {reason("shutdown"), double(s.dropped_shutdown)}};
      });
  meter.CreateObservableCounter(
      "lantern.logs.exported",
      {.description = "Log records the collector accepted",
       .unit = "{log_record}",
       .integer = true},
      [] {
        return std::vector<Observation>{{{}, double(ReadLogsStats().exported)}};
      });
}

}  // namespace lantern::telemetry
