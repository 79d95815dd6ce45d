#include "server/serving_metrics.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <utility>

#include "telemetry/health.h"
#include "telemetry/tail_sampling.h"
#include "telemetry/tracer.h"

namespace lantern::server {
namespace {

// vLLM's bucket boundaries (vllm/v1/metrics/loggers.py), so that its dashboards read the same.
const std::vector<double> kTtftBuckets = {0.001, 0.005, 0.01, 0.02,  0.04,  0.06,  0.08, 0.1,
                                          0.25,  0.5,   0.75, 1.0,   2.5,   5.0,   7.5,  10.0,
                                          20.0,  40.0,  80.0, 160.0, 640.0, 2560.0};
const std::vector<double> kTokenLatencyBuckets = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2,
                                                  0.3,  0.4,   0.5,  0.75,  1.0, 2.5,  5.0,
                                                  7.5,  10.0,  20.0, 40.0,  80.0};
const std::vector<double> kRequestLatencyBuckets = {
    0.3,  0.5,  0.8,  1.0,  1.5,   2.0,   2.5,   5.0,   10.0,   15.0,  20.0,
    30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};
const std::vector<double> kIterationTokenBuckets = {1,   8,    16,   32,   64,   128,  256,
                                                    512, 1024, 2048, 4096, 8192, 16384};

}  // namespace

ServingMetrics::ServingMetrics(MetricsRegistry* registry, const std::string& model_name,
                               int max_model_len, const CacheConfig& cache)
    : max_model_len_(max_model_len), registry_(registry), labels_{{"model_name", model_name}} {
  ttft_ = AddHistogram("time_to_first_token_seconds",
                       "Histogram of time to first token in seconds.", kTtftBuckets);
  e2e_ =
      AddHistogram("e2e_request_latency_seconds",
                   "Histogram of end to end request latency in seconds.", kRequestLatencyBuckets);
  queue_ =
      AddHistogram("request_queue_time_seconds",
                   "Histogram of time spent in WAITING phase for request.", kRequestLatencyBuckets);
  prefill_ =
      AddHistogram("request_prefill_time_seconds",
                   "Histogram of time spent in PREFILL phase for request.", kRequestLatencyBuckets);
  decode_ =
      AddHistogram("request_decode_time_seconds",
                   "Histogram of time spent in DECODE phase for request.", kRequestLatencyBuckets);
  inference_ =
      AddHistogram("request_inference_time_seconds",
                   "Histogram of time spent in RUNNING phase for request.", kRequestLatencyBuckets);
  inter_token_latency_ =
      AddHistogram("inter_token_latency_seconds", "Histogram of inter-token latency in seconds.",
                   kTokenLatencyBuckets);
  time_per_output_token_ =
      AddHistogram("request_time_per_output_token_seconds",
                   "Histogram of time_per_output_token_seconds per request.", kTokenLatencyBuckets);
  auto token_buckets = OneTwoFiveBuckets(std::max(1, max_model_len));
  prompt_tokens_ =
      AddHistogram("request_prompt_tokens", "Number of prefill tokens processed.", token_buckets);
  generation_tokens_ = AddHistogram("request_generation_tokens",
                                    "Number of generation tokens processed.", token_buckets);
  max_num_generation_tokens_ =
      AddHistogram("request_max_num_generation_tokens",
                   "Histogram of maximum number of requested generation tokens.", token_buckets);
  params_n_ =
      AddHistogram("request_params_n", "Histogram of the n request parameter.", {1, 2, 5, 10, 20});
  params_max_tokens_ = AddHistogram(
      "request_params_max_tokens", "Histogram of the max_tokens request parameter.", token_buckets);
  rejected_ =
      registry->AddCounter("lantern:request_rejected_total",
                           "Requests refused before reaching the engine (overload).", labels_);
  // Where prompt tokens came from; lantern has no KV connector, so never a transfer.
  auto by_source = [&](const char* source) {
    MetricLabels labels = labels_;
    labels.emplace_back("source", source);
    return registry->AddCounter("lantern:prompt_tokens_by_source_total",
                                "Number of prompt tokens by source.", labels);
  };
  prompt_computed_ = by_source("local_compute");
  prompt_cached_ = by_source("local_cache_hit");
  by_source("external_kv_transfer");
  registry->ServeAsVllm("lantern:prompt_tokens_by_source_total");
  // Counted per sequence at its end, as vLLM counts each child request's prompt.
  prompt_tokens_total_ = registry->AddCounter("lantern:prompt_tokens_total",
                                              "Number of prefill tokens processed.", labels_);
  registry->ServeAsVllm("lantern:prompt_tokens_total");
  // Cached prompt tokens (the local prefix cache: lantern's only tier, the memory it
  // computes from, which vLLM calls "device"), read from the by-source count.
  auto cached = [c = prompt_cached_] { return c->value(); };
  registry->AddCallbackCounter("lantern:prompt_tokens_cached_total",
                               "Number of cached prompt tokens (local or external).", labels_,
                               cached);
  registry->ServeAsVllm("lantern:prompt_tokens_cached_total");
  MetricLabels device = labels_;
  device.emplace_back("source", "device");
  registry->AddCallbackCounter("lantern:prompt_tokens_cached_by_source_total",
                               "Number of cached prompt tokens by the tier that held them.", device,
                               cached);
  registry->ServeAsVllm("lantern:prompt_tokens_cached_by_source_total");
  prefill_computed_ = AddHistogram("request_prefill_kv_computed_tokens",
                                   "Histogram of prompt tokens prefill computed per request "
                                   "(the rest came from the prefix cache).",
                                   token_buckets);
  // vLLM's info gauge: its labels are the cache configuration, without model_name.
  registry
      ->AddGauge("lantern:cache_config_info", "Information of the LLMEngine CacheConfig",
                 {{"block_size", std::to_string(cache.block_size)},
                  {"cache_dtype", cache.cache_dtype},
                  {"enable_prefix_caching", cache.enable_prefix_caching ? "True" : "False"},
                  {"num_cpu_blocks", std::to_string(cache.num_blocks)},
                  {"num_gpu_blocks", std::to_string(cache.num_blocks)}})
      ->Set(1);
  registry->ServeAsVllm("lantern:cache_config_info");
  AddTracingCounters();
}

Histogram* ServingMetrics::AddHistogram(const std::string& name, const std::string& help,
                                        std::vector<double> buckets) {
  Histogram* h = registry_->AddHistogram("lantern:" + name, help, labels_, std::move(buckets));
  registry_->ServeAsVllm("lantern:" + name);
  return h;
}

std::function<void(const engine::StepStats&)> ServingMetrics::MakeStepObserver(
    MetricsRegistry* registry, const std::string& model_name,
    std::function<void(const engine::StepStats&)> chained) {
  Histogram* tokens = registry->AddHistogram("lantern:iteration_tokens_total",
                                             "Histogram of number of tokens per engine_step.",
                                             {{"model_name", model_name}}, kIterationTokenBuckets);
  registry->ServeAsVllm("lantern:iteration_tokens_total");
  return [tokens, chained = std::move(chained)](const engine::StepStats& step) {
    if (chained) chained(step);
    int n = step.num_prefill_tokens + step.num_decode_tokens;
    if (n > 0) tokens->Observe(n);
  };
}

void ServingMetrics::AddTracingCounters() {
  using telemetry::ReadHealth;
  auto& r = *registry_;
  r.AddCallbackCounter("lantern:tracing_spans_started_total",
                       "Recording spans started (unsampled spans are not counted).", labels_,
                       [] { return static_cast<double>(ReadHealth().spans_started); });
  r.AddCallbackCounter("lantern:tracing_spans_exported_total",
                       "Spans the exporter reported delivered to the collector.", labels_,
                       [] { return static_cast<double>(ReadHealth().spans_exported); });
  const std::pair<const char*, uint64_t telemetry::TelemetryHealth::*> reasons[] = {
      {"queue_full", &telemetry::TelemetryHealth::spans_dropped_queue_full},
      {"export_failed", &telemetry::TelemetryHealth::spans_dropped_export_failed},
      {"shutdown", &telemetry::TelemetryHealth::spans_dropped_shutdown},
      {"rejected", &telemetry::TelemetryHealth::spans_dropped_rejected},
      {"too_large", &telemetry::TelemetryHealth::spans_dropped_too_large},
  };
  for (const auto& [reason, field] : reasons) {
    MetricLabels labels = labels_;
    labels.emplace_back("reason", reason);
    r.AddCallbackCounter("lantern:tracing_spans_dropped_total",
                         "Ended spans that never reached the collector, by reason.", labels,
                         [field = field] { return static_cast<double>(ReadHealth().*field); });
  }
  r.AddCallbackCounter("lantern:tracing_export_failures_total",
                       "Export calls that failed (after the exporter's retries).", labels_,
                       [] { return static_cast<double>(ReadHealth().export_failures); });
  const telemetry::TracerProvider* provider = telemetry::GlobalTracerProvider();
  if (provider == nullptr || telemetry::TailSamplingOptionsOf(provider->sampler()) == nullptr) {
    return;
  }
  // OTEL_TRACES_SAMPLER=lantern_tail: what it decided, and how often its buffer was full.
  for (const char* decision : {"kept", "dropped"}) {
    MetricLabels labels = labels_;
    labels.emplace_back("decision", decision);
    const bool kept = decision[0] == 'k';
    r.AddCallbackCounter(
        "lantern:tracing_tail_traces_total", "Traces the tail sampler decided, by decision.",
        labels, [kept] {
          telemetry::TelemetryHealth h = ReadHealth();
          return static_cast<double>(kept ? h.tail_traces_kept : h.tail_traces_dropped);
        });
  }
  r.AddCallbackCounter(
      "lantern:tracing_tail_early_decisions_total",
      "Traces the tail sampler decided before they ended because its buffer was full.", labels_,
      [] { return static_cast<double>(ReadHealth().tail_traces_decided_early); });
  r.AddCallbackCounter("lantern:tracing_tail_spans_dropped_total",
                       "Spans of traces the tail sampler did not keep.", labels_,
                       [] { return static_cast<double>(ReadHealth().tail_spans_dropped); });
}

void ServingMetrics::SetEngineCountersSource(
    std::function<engine::EngineCounters()> read_counters) {
  // One snapshot per scrape would be nicer; reading per series is cheap and consistent
  // enough for counters that only grow.
  auto read = std::make_shared<std::function<engine::EngineCounters()>>(std::move(read_counters));
  auto field = [read](auto member) {
    return [read, member] { return static_cast<double>((*read)().*member); };
  };
  auto& r = *registry_;
  using C = engine::EngineCounters;
  r.AddCallbackGauge("lantern:num_requests_running",
                     "Number of requests in model execution batches.", labels_,
                     field(&C::num_running));
  r.AddCallbackGauge("lantern:num_requests_waiting", "Number of requests waiting to be processed.",
                     labels_, field(&C::num_waiting));
  r.AddCallbackGauge("lantern:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.",
                     labels_, [read] { return (*read)().kv_usage(); });
  r.AddCallbackGauge("lantern:kv_cache_blocks_used", "KV-cache blocks in use.", labels_,
                     field(&C::kv_blocks_used));
  r.AddCallbackCounter("lantern:prefix_cache_queries_total",
                       "Prefix cache queries, in terms of number of queried tokens.", labels_,
                       field(&C::prefix_cache_queries));
  r.AddCallbackCounter("lantern:prefix_cache_hits_total",
                       "Prefix cache hits, in terms of number of cached tokens.", labels_,
                       field(&C::prefix_cache_hits));
  r.AddCallbackCounter("lantern:num_preemptions_total", "Cumulative number of preemptions.",
                       labels_, field(&C::num_preemptions));
  r.AddCallbackCounter("lantern:generation_tokens_total", "Number of generation tokens processed.",
                       labels_, field(&C::generation_tokens));
  for (const char* name :
       {"num_requests_running", "num_requests_waiting", "kv_cache_usage_perc",
        "prefix_cache_queries_total", "prefix_cache_hits_total", "num_preemptions_total",
        "prompt_tokens_total", "generation_tokens_total"}) {
    r.ServeAsVllm(std::string("lantern:") + name);
  }
  for (auto [reason, member] :
       {std::pair{"stop", &C::finished_stop}, std::pair{"length", &C::finished_length},
        std::pair{"abort", &C::finished_abort}}) {
    MetricLabels labels = labels_;
    labels.emplace_back("finished_reason", reason);
    r.AddCallbackCounter("lantern:request_success_total",
                         "Count of successfully processed requests (sequences), by finish reason.",
                         labels, field(member));
  }
  MetricLabels error_labels = labels_;
  error_labels.emplace_back("finished_reason", "error");
  errors_ = r.AddCounter("lantern:request_success_total",
                         "Count of successfully processed requests (sequences), by finish reason.",
                         error_labels);
  r.ServeAsVllm("lantern:request_success_total");
  // vLLM splits its waiting queue by why a request waits: lantern's only wait for capacity.
  for (const char* reason : {"capacity", "deferred"}) {
    MetricLabels labels = labels_;
    labels.emplace_back("reason", reason);
    r.AddCallbackGauge("lantern:num_requests_waiting_by_reason",
                       "Number of requests waiting to be processed, by reason.", labels,
                       reason == std::string("capacity")
                           ? field(&C::num_waiting)
                           : std::function<double()>([] { return 0.0; }));
  }
  r.ServeAsVllm("lantern:num_requests_waiting_by_reason");
}

void ServingMetrics::RecordInterTokenLatency(double seconds, const ExemplarContext* exemplar) {
  if (exemplar) {
    inter_token_latency_->Observe(seconds, *exemplar);
  } else {
    inter_token_latency_->Observe(seconds);
  }
}

void ServingMetrics::RecordFinished(const FinishedRequest& request) {
  const engine::RequestMetrics& m = *request.metrics;
  auto observe = [&request](Histogram* h, double value) {
    if (request.exemplar) {
      h->Observe(value, *request.exemplar);
    } else {
      h->Observe(value);
    }
  };
  // Each sequence is one of vLLM's child requests: the request's timings, its own tokens.
  // The timings OTLP shows too are recorded once each, into the GenAI instrument and these
  // histograms (once per sequence here) together; without the GenAI side of the request,
  // into these alone, below.
  if (request.genai != nullptr) {
    RecordRequestTimings(*request.genai, m,
                         {.e2e = e2e_,
                          .ttft = ttft_,
                          .queue = queue_,
                          .prefill = prefill_,
                          .decode = decode_,
                          .sequences = static_cast<int>(request.sequence_tokens.size())});
  }
  int max_generated = 0;
  for (size_t i = 0; i < request.sequence_tokens.size(); ++i) {
    const int generated = request.sequence_tokens[i];
    max_generated = std::max(max_generated, generated);
    if (request.genai == nullptr) {
      if (m.first_token) observe(ttft_, m.ttft_s());
      if (m.finished) observe(e2e_, m.e2e_s());
      observe(queue_, m.queue_s());
      if (m.first_scheduled && m.first_token) observe(prefill_, m.prefill_s());
      if (m.first_token && m.last_token) observe(decode_, m.decode_s());
    }
    if (m.first_scheduled && m.last_token) observe(inference_, m.inference_s());
    if (generated > 1 && m.first_token && m.last_token) {
      observe(time_per_output_token_, m.decode_s() / (generated - 1));
    }
    observe(prompt_tokens_, m.num_prompt_tokens);
    // The first sequence computes the prompt (less what the prefix cache had); vLLM's
    // other child requests find all of it cached.
    int computed = i == 0 ? m.num_computed_prompt_tokens : 0;
    prompt_computed_->Increment(computed);
    prompt_tokens_total_->Increment(m.num_prompt_tokens);
    observe(prefill_computed_, computed);
    prompt_cached_->Increment(std::max(0, m.num_prompt_tokens - computed));
    observe(generation_tokens_, generated);
    // vLLM's API server always sets max_tokens: unset, it is what the context leaves.
    observe(params_max_tokens_,
            request.max_tokens.value_or(std::max(0, max_model_len_ - m.num_prompt_tokens)));
  }
  observe(params_n_, request.n);
  observe(max_num_generation_tokens_, max_generated);
}

}  // namespace lantern::server
