#include "server/serving_metrics.h"

#include <memory>
#include <mutex>
#include <utility>

#include "telemetry/health.h"

namespace lantern::server {
namespace {

// vLLM's bucket boundaries, so that dashboards built for it read the same.
const std::vector<double> kTtftBuckets = {0.001, 0.005, 0.01, 0.02,  0.04,  0.06,  0.08, 0.1,
                                          0.25,  0.5,   0.75, 1.0,   2.5,   5.0,   7.5,  10.0,
                                          20.0,  40.0,  80.0, 160.0, 640.0, 2560.0};
const std::vector<double> kTokenLatencyBuckets = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2,
                                                  0.3,  0.4,   0.5,  0.75,  1.0, 2.5,  5.0,
                                                  7.5,  10.0,  20.0, 40.0,  80.0};
const std::vector<double> kRequestLatencyBuckets = {
    0.3,  0.5,  0.8,  1.0,  1.5,   2.0,   2.5,   5.0,   10.0,   15.0,  20.0,
    30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};

}  // namespace

ServingMetrics::ServingMetrics(MetricsRegistry* registry, const std::string& model_name,
                               int max_model_len)
    : registry_(registry), labels_{{"model_name", model_name}} {
  auto& r = *registry;
  ttft_ = r.AddHistogram("lantern:time_to_first_token_seconds",
                         "Histogram of time to first token in seconds.", labels_, kTtftBuckets);
  e2e_ = r.AddHistogram("lantern:e2e_request_latency_seconds",
                        "Histogram of end to end request latency in seconds.", labels_,
                        kRequestLatencyBuckets);
  queue_ = r.AddHistogram("lantern:request_queue_time_seconds",
                          "Histogram of time spent in WAITING phase for request.", labels_,
                          kRequestLatencyBuckets);
  prefill_ = r.AddHistogram("lantern:request_prefill_time_seconds",
                            "Histogram of time spent in PREFILL phase for request.", labels_,
                            kRequestLatencyBuckets);
  decode_ = r.AddHistogram("lantern:request_decode_time_seconds",
                           "Histogram of time spent in DECODE phase for request.", labels_,
                           kRequestLatencyBuckets);
  inference_ = r.AddHistogram("lantern:request_inference_time_seconds",
                              "Histogram of time spent in RUNNING phase for request.", labels_,
                              kRequestLatencyBuckets);
  inter_token_latency_ =
      r.AddHistogram("lantern:inter_token_latency_seconds",
                     "Histogram of inter-token latency in seconds.", labels_, kTokenLatencyBuckets);
  time_per_output_token_ = r.AddHistogram("lantern:request_time_per_output_token_seconds",
                                          "Histogram of time_per_output_token_seconds per request.",
                                          labels_, kTokenLatencyBuckets);
  auto token_buckets = OneTwoFiveBuckets(std::max(1, max_model_len));
  prompt_tokens_ = r.AddHistogram("lantern:request_prompt_tokens",
                                  "Number of prefill tokens processed.", labels_, token_buckets);
  generation_tokens_ =
      r.AddHistogram("lantern:request_generation_tokens", "Number of generation tokens processed.",
                     labels_, token_buckets);
  rejected_ = r.AddCounter("lantern:request_rejected_total",
                           "Requests refused before reaching the engine (overload).", labels_);
  AddTracingCounters();
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
  r.AddCallbackCounter("lantern:prompt_tokens_total", "Number of prefill tokens processed.",
                       labels_, field(&C::prompt_tokens));
  r.AddCallbackCounter("lantern:generation_tokens_total", "Number of generation tokens processed.",
                       labels_, field(&C::generation_tokens));
  for (auto [reason, member] :
       {std::pair{"stop", &C::finished_stop}, std::pair{"length", &C::finished_length},
        std::pair{"abort", &C::finished_abort}}) {
    MetricLabels labels = labels_;
    labels.emplace_back("finished_reason", reason);
    r.AddCallbackCounter("lantern:request_success_total",
                         "Count of successfully processed requests (sequences), by finish reason.",
                         labels, field(member));
  }
}

void ServingMetrics::RecordFinished(const engine::RequestMetrics& m) {
  if (m.first_token) ttft_->Observe(m.ttft_s());
  if (m.finished) e2e_->Observe(m.e2e_s());
  queue_->Observe(m.queue_s());
  if (m.first_scheduled && m.first_token) prefill_->Observe(m.prefill_s());
  if (m.first_token && m.last_token) decode_->Observe(m.decode_s());
  if (m.first_scheduled && m.last_token) inference_->Observe(m.inference_s());
  if (m.num_generation_tokens > 1 && m.first_token && m.last_token) {
    time_per_output_token_->Observe(m.decode_s() / (m.num_generation_tokens - 1));
  }
  prompt_tokens_->Observe(m.num_prompt_tokens);
  generation_tokens_->Observe(m.num_generation_tokens);
}

}  // namespace lantern::server
