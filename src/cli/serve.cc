// `lantern serve MODEL`: loads a model and serves the OpenAI-compatible API until SIGINT or
// SIGTERM, then drains: stop accepting, let requests finish up to --shutdown-timeout,
// abort the rest, exit 0. Flags are vLLM's where vLLM has one.
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/log.h"
#include "cli/command.h"
#include "cli/cpu_report.h"
#include "cli/dtype_flag.h"
#include "cli/hub_model.h"
#include "cli/load_progress.h"
#include "cli/startup_trace.h"
#include "cli/stats_log.h"
#include "cli/vllm_flags.h"
#include "cli/warmup.h"
#include "engine/engine.h"
#include "engine/generation_config.h"
#include "grammar/grammar.h"
#include "model/device.h"
#include "model/device_backend.h"
#include "model/model.h"
#include "model/weights.h"
#include "server/genai_metrics.h"
#include "server/http_metrics.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/model_source.h"
#include "server/openai_sampling.h"
#include "server/openai_service.h"
#include "server/process_metrics.h"
#include "server/router.h"
#include "server/serving_metrics.h"
#include "server/step_tracing.h"
#include "server/structured_output.h"
#include "server/tokenizer_codec.h"
#include "telemetry/logs_sdk.h"
#include "telemetry/sdk.h"
#include "ui/trace_ring.h"
#include "ui/ui_service.h"
#include "tokenizer/tokenizer.h"
#include "toolcall/tool_parser.h"

namespace lantern::cli {
namespace {

struct ServeFlags {
  std::string model;
  std::string model_option;  // --model, vLLM's spelling of MODEL
  std::string revision = "main";
  std::string download_dir;
  std::string host = "0.0.0.0";
  int port = 8000;
  std::vector<std::string> served_model_names;
  int max_model_len = 0;
  std::string dtype = "auto";
  std::string quantization = "none";
  int max_num_seqs = 256;
  int max_num_batched_tokens = 2048;
  std::string kv_cache_memory;
  std::string kv_cache_dtype = "auto";
  bool enable_prefix_caching = true;
  std::string chat_template;
  bool trust_request_chat_template = false;
  uint64_t seed = 0;
  std::string api_key;
  bool disable_log_requests = false;
  std::string generation_config = "auto";
  double shutdown_timeout = 10.0;
  int io_threads = 2;
  int preprocess_threads = 2;
  int max_pending_preprocess = 1024;
  int max_queued_requests = 4096;
  double timeout_keep_alive = 5.0;
  double http_request_timeout = 30.0;
  int64_t max_body_bytes = 16 << 20;
  // Tracing (issue 7).
  std::string otlp_traces_endpoint;
  std::string collect_detailed_traces;
  bool trace_token_events = false;
  bool trace_content = false;
  std::string log_format = "text";  // issue 17: text or json lines on stderr
  // The built-in trace viewer (issue 18).
  bool ui = false;
  int ui_max_traces = 1000;
  int64_t ui_max_bytes = int64_t{64} << 20;
  std::string ui_trace_url;
  VllmFlags vllm;  // vLLM's flags: honoured, or accepted with a warning
  std::string metrics_names = "lantern";  // /metrics as lantern:* or vLLM's vllm:*
  // The device (issue 20): cpu, or cuda[:N] through the CUDA plugin.
  std::string device = "cpu";
  double gpu_memory_utilization = 0.9;
  bool enforce_eager = false;
  std::set<std::string> given;  // of the GPU-only flags above, those on the command line
};

// "4GiB", "512MB", "1073741824" -> bytes.
Result<int64_t> ParseBytes(const std::string& text) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    return InvalidArgument("--kv-cache-memory: '" + text + "' is not a size (e.g. 4GiB, 512MB)");
  }
  std::string unit = text.substr(used);
  double scale = 1;
  if (unit.empty() || unit == "B") {
    scale = 1;
  } else if (unit == "K" || unit == "KiB") {
    scale = 1024.0;
  } else if (unit == "M" || unit == "MiB") {
    scale = 1024.0 * 1024;
  } else if (unit == "G" || unit == "GiB") {
    scale = 1024.0 * 1024 * 1024;
  } else if (unit == "KB") {
    scale = 1e3;
  } else if (unit == "MB") {
    scale = 1e6;
  } else if (unit == "GB") {
    scale = 1e9;
  } else {
    return InvalidArgument("--kv-cache-memory: unknown unit '" + unit + "' in '" + text + "'");
  }
  if (!(value > 0)) return InvalidArgument("--kv-cache-memory must be positive, got " + text);
  return static_cast<int64_t>(value * scale);
}

void RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

int Fail(const Status& status) {
  std::fprintf(stderr, "lantern serve: error: %s\n", status.message().c_str());
  return 1;
}

// Turns tracing on (flag or OTEL_* environment) and says what was decided.
Result<telemetry::TelemetryConfig> InitTracing(const ServeFlags& flags,
                                               std::shared_ptr<ui::TraceRing> ui_ring) {
  telemetry::TelemetryOptions options;
  // The viewer's ring sits beside the exporters: with --ui tracing is on even without one.
  if (ui_ring) options.extra_processors.push_back(ui::MakeTraceRingProcessor(ui_ring));
  options.otlp_traces_endpoint = flags.otlp_traces_endpoint;
  options.default_service_name = "lantern";
  auto config = telemetry::Init(std::move(options));
  if (!config.ok()) return config.status();
  if (!config->enabled) {
    LANTERN_LOG(kInfo, "serve")
        << "tracing off (no OTLP endpoint or exporter configured, or OTEL_SDK_DISABLED=true)";
    return config;
  }
  std::string exporters;
  for (const auto& e : config->exporters) exporters += (exporters.empty() ? "" : ",") + e;
  if (ui_ring) exporters += exporters.empty() ? "none (--ui keeps recent traces)" : " + --ui";
  std::string endpoint = config->otlp_endpoint.empty() ? "" : ", endpoint " + config->otlp_endpoint;
  LANTERN_LOG(kInfo, "serve") << "tracing on: service.name " << config->service_name
                              << ", exporter " << exporters << endpoint << ", sampler "
                              << config->sampler << ", detail "
                              << (flags.collect_detailed_traces.empty()
                                      ? "default"
                                      : flags.collect_detailed_traces)
                              << (flags.trace_token_events ? ", token events" : "")
                              << (flags.trace_content ? ", content recorded" : "");
  return config;
}

// Turns OTLP logs on from OTEL_LOGS_EXPORTER (issue 17) and says what was decided.
Result<telemetry::LogsConfig> InitLogExport() {
  auto config = telemetry::InitLogs({.default_service_name = "lantern"});
  if (!config.ok() || !config->enabled) return config;
  std::string exporters;
  for (const auto& e : config->exporters) exporters += (exporters.empty() ? "" : ",") + e;
  LANTERN_LOG(kInfo, "serve") << "log export on: exporter " << exporters
                              << (config->otlp_endpoint.empty()
                                      ? ""
                                      : ", endpoint " + config->otlp_endpoint);
  return config;
}

int Serve(const ServeFlags& flags) {
  RaiseFileLimit();
  // Signals go to the thread that waits for them, not to whichever thread runs.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::shared_ptr<ui::TraceRing> ui_ring;
  if (flags.ui) {
    ui_ring = std::make_shared<ui::TraceRing>(
        ui::TraceRingOptions{.max_traces = static_cast<size_t>(flags.ui_max_traces),
                             .max_bytes = static_cast<size_t>(flags.ui_max_bytes),
                             .max_step_spans = static_cast<size_t>(flags.ui_max_traces) * 4});
  }
  auto tracing = InitTracing(flags, ui_ring);
  if (!tracing.ok()) return Fail(tracing.status());
  const bool detailed_traces = tracing->enabled && !flags.collect_detailed_traces.empty();
  auto log_export = InitLogExport();
  if (!log_export.ok()) return Fail(log_export.status());

  // The start-up trace (tracing must be initialised above this line): one span per phase,
  // ended and flushed before the server says it is ready; an early return marks it failed.
  StartupTrace startup(StartupTraceFromEnvironment(
      flags.served_model_names.empty() ? flags.model : flags.served_model_names.front(),
      LANTERN_VERSION));
  // From here on a failure is also recorded on the start-up trace, with its message.
  auto fail = [&startup](const Status& status) {
    startup.Fail(status);
    return Fail(status);
  };
  // A repo id that is not a local directory comes from the Hub first (issue 15).
  std::optional<hub::DownloadResult> fetched;
  if (IsHubModel(flags.model)) {
    auto result =
        FetchHubModel(flags.model, flags.revision, flags.download_dir, startup.Phase("download"));
    if (!result.ok()) return fail(result.status());
    fetched = std::move(result).value();
  }
  startup.Phase("load_config");
  const auto cpu = ResolveCpuChoice();
  if (!cpu.ok()) return fail(cpu.status());
  LANTERN_LOG(kInfo, "serve") << cpu->Describe();
  startup.root().SetAttribute("lantern.cpu.isa", cpu->isa);
  startup.root().SetAttribute("lantern.cpu.model", cpu->model);
  startup.root().SetAttribute("lantern.cpu.extensions", cpu->extensions);
  auto device = model::ParseDevice(flags.device);
  if (!device.ok()) return fail(device.status());
  startup.root().SetAttribute("lantern.device", device->ToString());
  auto model_dir = fetched ? Result<std::filesystem::path>(fetched->snapshot)
                           : server::ResolveModelPath(flags.model, flags.revision,
                                                      server::HuggingFaceCacheDirs());
  if (!model_dir.ok()) return fail(model_dir.status());
  LANTERN_LOG(kInfo, "serve") << "model " << flags.model << " at " << model_dir->string();
  if (auto model_config = model::LoadModelConfig(*model_dir); !model_config.ok()) {
    return fail(model_config.status());
  }
  engine::SamplingParams defaults;
  if (flags.generation_config != "vllm") {
    std::filesystem::path dir = flags.generation_config == "auto"
                                    ? *model_dir
                                    : std::filesystem::path(flags.generation_config);
    auto generation = engine::LoadGenerationConfig(dir);
    if (!generation.ok()) return fail(generation.status());
    defaults = engine::SamplingParams::FromDefaults(*generation);
  }

  startup.Phase("load_tokenizer");
  auto tokenizer_dir =
      flags.vllm.tokenizer.empty()
          ? *model_dir
          : server::ResolveModelPath(flags.vllm.tokenizer, "main", server::HuggingFaceCacheDirs());
  if (!tokenizer_dir.ok()) return fail(tokenizer_dir.status());
  auto loaded_tokenizer = tokenizer::Tokenizer::Load(*tokenizer_dir);
  if (!loaded_tokenizer.ok()) return fail(loaded_tokenizer.status());
  std::shared_ptr<const tokenizer::Tokenizer> tok = std::move(loaded_tokenizer).value();

  std::optional<std::string> chat_template;
  if (!flags.chat_template.empty()) chat_template = flags.chat_template;
  auto codec = server::MakeTextCodec(tok, chat_template);
  if (!codec.ok()) return fail(codec.status());

  // The GPU first (issue 20): no plugin or no device is one clear line and exit 1, before
  // any weights are read.
  std::string device_name = device->ToString();
  if (device->is_cuda()) {
    telemetry::Span& device_span = startup.Phase("init_device");
    device_span.SetAttribute("lantern.device", device->ToString());
    auto described = model::DescribeCudaDevice(device->index);
    if (!described.ok()) return fail(described.status());
    device_name += " (" + described->ToString() + ")";
    device_span.SetAttribute("lantern.device.name", described->name);
    device_span.SetAttribute("lantern.device.memory_bytes",
                             static_cast<int64_t>(described->total_bytes));
    LANTERN_LOG(kInfo, "serve") << "device " << device_name << ", --gpu-memory-utilization "
                                << flags.gpu_memory_utilization
                                << (flags.enforce_eager ? ", eager (no CUDA graphs)" : "");
  } else {
    for (const char* flag : {"--gpu-memory-utilization", "--enforce-eager"}) {
      if (flags.given.count(flag)) {
        LANTERN_LOG(kWarning, "serve") << flag << " has no effect with --device cpu: the KV "
                                       << "cache is sized by --kv-cache-memory";
      }
    }
  }

  telemetry::Span& weights_span = startup.Phase("load_weights");
  auto dtype = ParseDTypeFlag(flags.dtype);
  if (!dtype.ok()) return fail(dtype.status());
  auto quantization = ParseQuantizationFlag(flags.quantization);
  if (!quantization.ok()) return fail(quantization.status());
  auto kv_cache_dtype = ParseKvCacheDTypeFlag(flags.kv_cache_dtype);
  if (!kv_cache_dtype.ok()) return fail(kv_cache_dtype.status());
  auto loaded_model =
      model::LoadModel(*model_dir, {.dtype = *dtype,
                                    .quantization = *quantization,
                                    .progress = MakeLoadProgressPrinter(),
                                    .device = *device,
                                    .gpu_memory_utilization = flags.gpu_memory_utilization,
                                    .enforce_eager = flags.enforce_eager});
  if (!loaded_model.ok()) return fail(loaded_model.status());
  std::shared_ptr<model::Model> model = std::move(loaded_model).value();
  const std::string dtype_name = WeightsDescription(*model);
  weights_span.SetAttribute("lantern.weights.dtype", DTypeFlagName(model->weight_dtype()));
  weights_span.SetAttribute("lantern.weights.quantization",
                            model->int8_weights() ? "int8" : "none");
  weights_span.SetAttribute("lantern.weights.memory_bytes",
                            static_cast<int64_t>(model->weight_bytes()));
  weights_span.SetAttribute("lantern.weights.device", device->ToString());
  LANTERN_LOG(kInfo, "serve") << "weights: " << dtype_name << ", "
                              << model->weight_bytes() / (1 << 20) << " MiB in "
                              << (device->is_cuda() ? "GPU memory" : "memory");
  if (weights_span.IsRecording()) {  // counted on a second open of the (mapped) files
    if (auto store = model::WeightStore::Open(*model_dir); store.ok()) {
      weights_span.SetAttribute("lantern.weights.bytes",
                                static_cast<int64_t>(store->total_bytes()));
      weights_span.SetAttribute("lantern.weights.tensors", static_cast<int64_t>(store->size()));
      weights_span.SetAttribute("lantern.weights.format", store->format());
    }
  }

  engine::EngineConfig config;
  config.max_num_seqs = flags.max_num_seqs;
  config.max_num_batched_tokens = flags.max_num_batched_tokens;
  config.max_model_len = flags.max_model_len;
  config.enable_prefix_caching = flags.enable_prefix_caching;
  config.seed = flags.seed;
  config.max_logprobs = flags.vllm.max_logprobs;  // the engine checks requests against it too
  config.max_queued_requests = flags.max_queued_requests;
  config.extra_eos_token_ids = tok->eos_ids();
  config.detokenizer_factory = server::MakeDetokenizerFactory(tok);
  // With tracing on, steps are traced for every request (--collect-detailed-traces) or for
  // those that ask with the detail header (server/http_tracing.h).
  if (tracing->enabled) config.on_step = server::MakeEngineStepTracer(detailed_traces);
  std::vector<std::string> names = flags.served_model_names;
  if (names.empty()) names.push_back(flags.model);
  // Declared before the engine, which reports every step into it until it stops.
  server::MetricsRegistry registry;
  config.on_step =
      server::ServingMetrics::MakeStepObserver(&registry, names.front(), std::move(config.on_step));
  config.kv_cache_dtype = *kv_cache_dtype;
  if (!flags.kv_cache_memory.empty()) {
    auto bytes = ParseBytes(flags.kv_cache_memory);
    if (!bytes.ok()) return fail(bytes.status());
    config.kv_cache_memory_bytes = *bytes;
  }
  telemetry::Span& kv_span = startup.Phase("init_kv_cache");
  auto created = engine::Engine::Create(model, std::move(config));
  if (!created.ok()) return fail(created.status());
  std::unique_ptr<engine::Engine> engine = std::move(created).value();
  const auto& info = engine->info();
  kv_span.SetAttribute("lantern.kv.blocks", static_cast<int64_t>(info.num_kv_blocks));
  kv_span.SetAttribute("lantern.kv.bytes", static_cast<int64_t>(info.kv_cache_bytes));
  kv_span.SetAttribute("lantern.kv.dtype", DTypeFlagName(info.kv_cache_dtype));
  kv_span.SetAttribute("lantern.kv.device", device->ToString());
  if (device->is_cuda()) {  // the decode steps' CUDA graphs were captured over the new cache
    kv_span.SetAttribute("lantern.cuda.graphs", static_cast<int64_t>(info.num_step_graphs));
  }
  telemetry::Span& warmup_span = startup.Phase("warmup");
  if (Status warm = WarmUp(*model); !warm.ok()) {
    LANTERN_LOG(kWarning, "serve") << "warm-up forward pass failed: " << warm.message();
    warmup_span.SetStatus(telemetry::StatusCode::kError, warm.message());
  }
  startup.EndPhase();

  server::ServingMetrics metrics(&registry, names.front(), info.max_model_len,
                                 {.block_size = info.block_size,
                                  .num_blocks = info.num_kv_blocks,
                                  .cache_dtype = DTypeFlagName(info.kv_cache_dtype),
                                  .enable_prefix_caching = flags.enable_prefix_caching});
  server::AddProcessMetrics(&registry);
  registry
      .AddGauge("lantern:cpu_info",
                "The CPU and the kernel level (LANTERN_CPU_ISA or the best it has) of this server",
                {{"isa", cpu->isa}, {"cpu_model", cpu->model}, {"extensions", cpu->extensions}})
      ->Set(1);
  registry
      .AddGauge("lantern:weights_bytes",
                "Bytes of model weights in memory, by the type they are kept in (--dtype)",
                {{"dtype", dtype_name}})
      ->Set(static_cast<double>(model->weight_bytes()));
  registry
      .AddGauge("lantern:device_info", "The device the model computes on (--device)",
                {{"device", device->ToString()}, {"name", device_name}})
      ->Set(1);
  metrics.SetEngineCountersSource([e = engine.get()] { return e->Counters(); });
  server::StartGenAiMetrics([e = engine.get()] { return e->Counters(); });
  if (log_export->enabled) telemetry::RegisterLogsMetrics();  // lantern.logs.dropped, .exported

  server::HttpServerOptions http;
  http.host = flags.host;
  http.port = flags.port;
  http.io_threads = flags.io_threads;
  http.max_body_bytes = static_cast<size_t>(flags.max_body_bytes);
  http.keep_alive_timeout =
      std::chrono::milliseconds(static_cast<int64_t>(flags.timeout_keep_alive * 1000));
  http.request_timeout =
      std::chrono::milliseconds(static_cast<int64_t>(flags.http_request_timeout * 1000));

  server::Router router;
  if (!flags.api_key.empty()) router.SetApiKey(flags.api_key);
  router.SetCors({.allowed_origins = server::ParseCorsList(flags.vllm.allowed_origins),
                  .allowed_methods = server::ParseCorsList(flags.vllm.allowed_methods),
                  .allowed_headers = server::ParseCorsList(flags.vllm.allowed_headers),
                  .allow_credentials = flags.vllm.allow_credentials});
  router.SetRootPath(flags.vllm.root_path);
  // vLLM's http_* series and OTLP's http.server.request.duration, from one timing.
  router.AddObserverFactory(server::MakeHttpMetricsObserverFactory(&registry));
  server::SetMaxLogprobs(flags.vllm.max_logprobs);
  // Every token's bytes, for structured outputs' grammars (built once; see grammar.h).
  server::SetGrammarVocabulary(grammar::Vocabulary::FromTokenizer(*tok));
  server::HttpServer* http_server = nullptr;
  server::ServiceOptions service_options;
  service_options.served_model_names = names;
  service_options.model_root = model_dir->string();
  service_options.max_model_len = info.max_model_len;
  service_options.vocab_size = info.vocab_size;
  service_options.default_params = defaults;
  service_options.max_in_flight = static_cast<size_t>(flags.max_queued_requests);
  service_options.max_queued_prompts = static_cast<size_t>(flags.max_queued_requests);
  service_options.preprocess_threads = flags.preprocess_threads;
  service_options.max_pending_preprocess = static_cast<size_t>(flags.max_pending_preprocess);
  service_options.log_requests =
      !flags.disable_log_requests && !flags.vllm.disable_uvicorn_access_log;
  service_options.quiet_paths = server::ParseCorsList(flags.vllm.disable_access_log_for_endpoints);
  service_options.trust_request_chat_template = flags.trust_request_chat_template;
  service_options.enable_auto_tool_choice = flags.vllm.enable_auto_tool_choice;
  if (!flags.vllm.tool_call_parser.empty()) {
    service_options.tool_parser = toolcall::MakeParser(flags.vllm.tool_call_parser).value();
  }
  service_options.metrics_naming = flags.metrics_names == "vllm" ? server::MetricsNaming::kVllm
                                                                 : server::MetricsNaming::kLantern;
  service_options.tracing.detailed = detailed_traces;
  service_options.tracing.token_events = flags.trace_token_events;
  service_options.tracing.content = flags.trace_content;
  service_options.tracing.max_token_events = tracing->limits.event_count;
  server::OpenAiService service(
      service_options, engine.get(), std::move(codec).value(), &registry, &metrics,
      [&http_server](std::function<void()> task) { http_server->Post(std::move(task)); });
  service.Register(router);
  std::optional<ui::UiService> ui_service;
  if (ui_ring) {
    ui_service.emplace(ui::UiOptions{.api_key = flags.api_key,
                                     .trace_url = flags.ui_trace_url,
                                     .version = LANTERN_VERSION,
                                     .trace_content = flags.trace_content,
                                     .detailed_traces = detailed_traces},
                       ui_ring, &registry);
    ui_service->Register(router);
  }
  server::HttpServer server(http, router.AsHandler());
  http_server = &server;
  telemetry::Span& listen_span = startup.Phase("listen");
  if (Status status = server.Start(); !status.ok()) return fail(status);
  listen_span.SetAttribute("server.address", flags.host);
  listen_span.SetAttribute("server.port", static_cast<int64_t>(server.port()));
  startup.Finish(std::chrono::seconds(2));  // exported before we report ready
  service.SetReady(true);
  // One summary a user can read: what is served, how, and where.
  LANTERN_LOG(kInfo, "serve") << "serving " << names.front() << " on http://" << flags.host << ":"
                              << server.port() << " (max_model_len " << info.max_model_len << ", "
                              << info.num_kv_blocks << " KV blocks of " << info.block_size
                              << " tokens)";
  LANTERN_LOG(kInfo, "serve") << "summary: model " << flags.model << ", device " << device_name
                              << ", dtype " << dtype_name << ", KV cache "
                              << static_cast<int64_t>(info.num_kv_blocks) * info.block_size
                              << " tokens (" << DTypeFlagName(info.kv_cache_dtype) << ", "
                              << info.kv_cache_bytes / (1 << 20) << " MiB)"
                              << (device->is_cuda()
                                      ? ", " + std::to_string(info.num_step_graphs) + " CUDA graphs"
                                      : ", kernels " + cpu->isa)
                              << ", " << flags.io_threads << " I/O + " << flags.preprocess_threads
                              << " preprocessing threads, "
                              << "tracing "
                              << (tracing->enabled ? "on (" + tracing->otlp_endpoint + ")" : "off")
                              << ", API at http://" << flags.host << ":" << server.port() << "/v1";
  if (ui_ring) {
    LANTERN_LOG(kInfo, "serve") << "trace viewer at http://" << flags.host << ":" << server.port()
                                << "/ui/ (the " << flags.ui_max_traces << " most recent traces, "
                                << flags.ui_max_bytes / (1 << 20) << " MiB at most)";
  }
  std::optional<StatsLog> stats_log;
  if (!flags.vllm.disable_log_stats) {
    stats_log.emplace([e = engine.get()] { return e->Counters(); }, std::chrono::seconds(10));
  }

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  LANTERN_LOG(kInfo, "serve") << "received " << (signal_number == SIGINT ? "SIGINT" : "SIGTERM")
                              << ": draining (up to " << flags.shutdown_timeout << " s)";
  // Draining: the port stays open, /health answers 503 (load balancers stop sending) and
  // new generation requests get 503, while the requests in flight run to their end.
  service.SetDraining();
  auto deadline =
      Now() + std::chrono::milliseconds(static_cast<int64_t>(flags.shutdown_timeout * 1000));
  while (service.in_flight() > 0 && Now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (service.in_flight() > 0) {
    LANTERN_LOG(kWarning, "serve")
        << "aborting " << service.in_flight() << " requests still running at the deadline";
  }
  server.StopAccepting();
  engine->Shutdown();  // aborts whatever is left; their streams end with "abort"
  auto flush_deadline = Now() + std::chrono::seconds(2);
  while (server.active_exchanges() > 0 && Now() < flush_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  server.Stop();
  // The spans of the last requests leave before the process does (bounded: a collector
  // that is down must not hold the shutdown).
  if (tracing->enabled && !telemetry::Shutdown(std::chrono::seconds(3))) {
    LANTERN_LOG(kWarning, "serve") << "tracing: spans still unexported after 3 s were dropped";
  }
  LANTERN_LOG(kInfo, "serve") << "stopped";
  // The last lines leave too (bounded, like the spans).
  if (log_export->enabled && !telemetry::ShutdownLogs(std::chrono::seconds(3))) {
    LANTERN_LOG(kWarning, "serve") << "log export: records still unexported after 3 s were dropped";
  }
  return 0;
}

}  // namespace
}  // namespace lantern::cli

LANTERN_COMMAND(serve, "Serve a model over the OpenAI-compatible HTTP API") {
  using lantern::cli::ServeFlags;
  ServeFlags flags;
  CLI::App app{"Serve a model over the OpenAI-compatible HTTP API", "lantern serve"};
  app.option_defaults()->always_capture_default();  // --help shows each default
  // One required model, given either way: CLI11 would mark both spellings REQUIRED, so the
  // requirement is checked after parsing and shown once.
  app.add_option("model", flags.model,
                 "Model directory or Hugging Face repo id (fetched into the HF cache when "
                 "missing)")
      ->option_text("TEXT REQUIRED");
  app.add_option("--model", flags.model_option,
                 "The model, as vLLM's guides write it: same as MODEL")
      ->default_str("");
  app.add_option("--revision", flags.revision, "Revision of a repo id: branch, tag or commit");
  app.add_option("--download-dir", flags.download_dir,
                 "Hugging Face cache for repo ids, instead of HF_HUB_CACHE's (see docs/hub.md)")
      ->default_str("");
  app.add_option("--host", flags.host, "Address to listen on");
  app.add_option("--port", flags.port, "Port to listen on")->check(CLI::Range(0, 65535));
  app.add_option("--served-model-name", flags.served_model_names,
                 "Model name(s) in the API (default: MODEL)")
      ->default_str("");
  app.add_option("--dtype", flags.dtype,
                 "Type the weights are kept in: auto (the checkpoint's), bfloat16, float16 "
                 "(half), float32 (float)")
      ->check(CLI::IsMember(lantern::cli::DTypeFlagValues()));
  app.add_option("--quantization,-q", flags.quantization,
                 "Weight quantization: none, or int8 (weight-only, quantized at load in blocks of "
                 "32 inputs with a scale each)")
      ->check(CLI::IsMember(lantern::cli::QuantizationFlagValues()));
  app.add_option("--max-model-len", flags.max_model_len, "Context length (default: the model's)")
      ->check(CLI::Range(1, 1 << 24))
      ->default_str("");
  app.add_option("--max-num-seqs", flags.max_num_seqs, "Sequences per step")
      ->check(CLI::Range(1, 1 << 16));
  app.add_option("--max-num-batched-tokens", flags.max_num_batched_tokens, "Tokens per step")
      ->check(CLI::Range(1, 1 << 24));
  app.add_option("--kv-cache-memory", flags.kv_cache_memory,
                 "KV cache size, e.g. 2GiB (default: what --max-num-seqs sequences of the full "
                 "length need, at most 30% of the available memory, container limit included, "
                 "64MiB to 4GiB)");
  // Checked at start-up rather than by CLI11, so vLLM's fp8 values get a sentence saying why.
  app.add_option("--kv-cache-dtype", flags.kv_cache_dtype,
                 "Type the KV cache keeps K and V in: auto (16 bits: float16 with float16 "
                 "weights, bfloat16 otherwise; half the memory of float32, so twice the tokens), "
                 "float32, bfloat16, float16. vLLM's fp8 values are refused");
  // Two flags rather than one with a negation, whose help would show the default of the
  // negated spelling ({false}) and read as off.
  app.add_flag_callback(
      "--enable-prefix-caching", [&flags] { flags.enable_prefix_caching = true; },
      "Reuse KV blocks of shared prompt prefixes (default: on)");
  app.add_flag_callback(
      "--no-enable-prefix-caching", [&flags] { flags.enable_prefix_caching = false; },
      "Turn prefix caching off");
  app.add_option("--chat-template", flags.chat_template, "Chat template: a file or the template");
  app.add_flag("--trust-request-chat-template", flags.trust_request_chat_template,
               "Accept a request's own chat_template (a program the server runs; off: 400)");
  app.add_option("--seed", flags.seed, "Seed of requests without their own");
  app.add_option("--api-key", flags.api_key, "Require 'Authorization: Bearer KEY' on /v1")
      ->envname("LANTERN_API_KEY")
      // An empty key would silently leave the API open to anyone.
      ->check([](const std::string& key) -> std::string {
        return key.empty() ? "an empty API key would turn authentication off; leave --api-key "
                             "(and LANTERN_API_KEY) unset to serve without one"
                           : "";
      });
  app.add_flag("--disable-log-requests", flags.disable_log_requests, "No access log lines");
  app.add_option("--metrics-names", flags.metrics_names,
                 "/metrics series names: lantern (lantern:*) or vllm (vLLM's vllm:* names, "
                 "labels and buckets, for its Grafana dashboards; see docs/metrics.md)")
      ->check(CLI::IsMember({"lantern", "vllm"}));
  app.add_option("--generation-config", flags.generation_config,
                 "'auto' (the model's generation_config.json), 'vllm' (none) or a folder");
  app.add_option("--shutdown-timeout", flags.shutdown_timeout,
                 "Seconds to let running requests finish on SIGTERM")
      ->check(CLI::Range(0.0, 86400.0));
  app.add_option("--io-threads", flags.io_threads, "HTTP I/O threads")->check(CLI::Range(1, 64));
  app.add_option("--preprocess-threads", flags.preprocess_threads,
                 "Threads that parse, render and tokenize requests (off the I/O threads)")
      ->check(CLI::Range(1, 64));
  app.add_option("--max-pending-preprocess", flags.max_pending_preprocess,
                 "Requests waiting to be tokenized past which new ones get 503 and Retry-After")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--max-queued-requests", flags.max_queued_requests,
                 "Generation requests in flight before 503")
      ->check(CLI::Range(1, 1 << 20));
  app.add_option("--timeout-keep-alive", flags.timeout_keep_alive,
                 "Seconds an idle keep-alive connection stays open")
      ->check(CLI::Range(0.01, 3600.0));
  app.add_option("--http-request-timeout", flags.http_request_timeout,
                 "Seconds for a whole request to arrive once started (slow clients: 408)")
      ->check(CLI::Range(0.01, 3600.0));
  app.add_option("--max-request-body-bytes", flags.max_body_bytes, "Larger bodies get 413")
      ->check(CLI::Range(int64_t{1024}, int64_t{1} << 32));
  app.add_option("--otlp-traces-endpoint", flags.otlp_traces_endpoint,
                 "Export traces to this OTLP endpoint, e.g. grpc://localhost:4317 or "
                 "http://localhost:4318/v1/traces (protocol: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL)");
  app.add_option("--collect-detailed-traces", flags.collect_detailed_traces,
                 "Detailed trace modules: model, worker, all");
  app.add_flag("--trace-token-events", flags.trace_token_events, "A span event per token");
  app.add_flag("--trace-content", flags.trace_content, "Record prompt and completion text");
  app.add_option("--log-format", flags.log_format,
                 "Log lines on stderr: text, or json (one object per line with time, level, "
                 "logger, message, and trace_id/span_id on a request's lines)")
      ->envname("LANTERN_LOG_FORMAT")
      ->transform(CLI::IsMember({"text", "json"}, CLI::ignore_case));
  app.add_flag("--ui", flags.ui,
               "Serve the built-in trace and metrics viewer at /ui/ (keeps recent traces in "
               "memory; turns tracing on; make run turns it on)");
  app.add_option("--ui-max-traces", flags.ui_max_traces, "Traces the viewer keeps, at most")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--ui-max-bytes", flags.ui_max_bytes,
                 "Memory the viewer's traces may take, e.g. 64MiB (oldest traces go first)")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::Range(int64_t{1} << 16, int64_t{1} << 40));
  app.add_option("--ui-trace-url", flags.ui_trace_url,
                 "Link each trace to your Jaeger/Tempo: a URL with {trace_id}, e.g. "
                 "'http://localhost:16686/trace/{trace_id}'")
      ->check([](const std::string& url) -> std::string {
        return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0
                   ? ""
                   : "must be an http:// or https:// URL";
      });
  app.add_option("--device", flags.device,
                 "Where to compute: cpu, or cuda (cuda:N) on an NVIDIA GPU through the CUDA "
                 "plugin liblantern_cuda.so beside the binary (Llama family)");
  app.add_option("--gpu-memory-utilization", flags.gpu_memory_utilization,
                 "--device cuda: the fraction of the GPU's memory lantern may use, weights, "
                 "activations and KV cache together; the KV cache takes what is left")
      ->check(CLI::Range(0.01, 1.0));
  app.add_flag("--enforce-eager", flags.enforce_eager,
               "--device cuda: no CUDA graphs; every decode step launches its kernels one by one");
  lantern::cli::AddVllmFlags(app, flags.vllm);
  std::vector<std::string> args = lantern::cli::NormalizeVllmArgs(argc, argv);
  std::vector<char*> arg_pointers;
  for (auto& arg : args) arg_pointers.push_back(arg.data());
  try {
    app.parse(static_cast<int>(arg_pointers.size()), arg_pointers.data());
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  lantern::log::SetFormat(
      lantern::log::ParseFormat(flags.log_format).value_or(lantern::log::Format::kText));
  for (const char* name : {"--gpu-memory-utilization", "--enforce-eager"}) {
    if (app.count(name) > 0) flags.given.insert(name);
  }
  if (flags.model.empty()) flags.model = flags.model_option;
  if (flags.model.empty()) {
    std::fprintf(stderr,
                 "lantern serve: error: MODEL is required: lantern serve MODEL (or --model "
                 "MODEL); see lantern serve --help\n");
    return 2;
  }
  if (auto status = lantern::cli::ApplyVllmFlags(app, flags.vllm); !status.ok()) {
    std::fprintf(stderr, "lantern serve: error: %s\n", status.message().c_str());
    return 2;
  }
  if (!flags.collect_detailed_traces.empty()) {
    for (const auto& part : CLI::detail::split(flags.collect_detailed_traces, ',')) {
      if (part != "model" && part != "worker" && part != "all") {
        std::fprintf(stderr,
                     "lantern serve: error: --collect-detailed-traces: '%s' is not one of "
                     "model, worker, all\n",
                     part.c_str());
        return 2;
      }
    }
  }
  return lantern::cli::Serve(flags);
}
