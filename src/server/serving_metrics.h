// The `lantern:*` metrics of one served model, as vLLM users chart them (vLLM's names with
// the lantern prefix, each with a model_name label): latency histograms per request, token
// counters and histograms, and engine gauges and counters read at scrape time. The ones vLLM
// has are also served under its names (`--metrics-names vllm`, see MetricsNaming).
//
// Counting follows vLLM, which runs a request with n > 1 as n child requests: each sequence
// is one finished request in request_success_total and in every per-request histogram
// (latencies, prompt and generation tokens, max_tokens); request_params_n and
// request_max_num_generation_tokens count the request once.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine_stats.h"
#include "engine/request.h"
#include "server/genai_metrics.h"
#include "server/metrics.h"

namespace lantern::server {

class ServingMetrics {
 public:
  // What vLLM's cache_config_info reports of the KV cache.
  struct CacheConfig {
    int block_size = 0;
    int num_blocks = 0;
    std::string cache_dtype = "auto";
    bool enable_prefix_caching = true;
  };

  ServingMetrics(MetricsRegistry* registry, const std::string& model_name, int max_model_len,
                 const CacheConfig& cache);

  // vLLM's iteration_tokens_total (tokens per engine step), registered before the engine
  // exists: the returned observer, for EngineConfig::on_step, calls `chained` first.
  static std::function<void(const engine::StepStats&)> MakeStepObserver(
      MetricsRegistry* registry, const std::string& model_name,
      std::function<void(const engine::StepStats&)> chained);

  // One finished engine request: its final metrics, its parameters and the tokens each of
  // its sequences generated. `exemplar`: the trace of a sampled request, or null.
  struct FinishedRequest {
    const engine::RequestMetrics* metrics = nullptr;
    int n = 1;
    std::optional<int> max_tokens;
    std::vector<int> sequence_tokens = {};  // generated tokens per sequence (n entries)
    const ExemplarContext* exemplar = nullptr;
    // The same request as the GenAI (OTLP) metrics see it: given, the request timings go
    // to both outputs from one recording (RecordRequestTimings) and the GenAI metrics are
    // recorded too; null, only /metrics is (exemplars from `exemplar`).
    const GenAiRequest* genai = nullptr;
  };

  // Engine-wide gauges and counters come from `read_counters` at each scrape.
  void SetEngineCountersSource(std::function<engine::EngineCounters()> read_counters);

  void RecordFinished(const FinishedRequest& request);
  // The gap between two consecutive tokens of one sequence.
  void RecordInterTokenLatency(double seconds, const ExemplarContext* exemplar = nullptr);
  // `sequences` sequences of a request the engine failed (finished_reason="error").
  void RecordEngineError(int sequences) { errors_->Increment(sequences); }
  // A request rejected before it reached the engine (e.g. 503 when overloaded).
  void RecordRejected() { rejected_->Increment(); }

 private:
  // lantern:tracing_* from the telemetry SDK's own counters, read at scrape time.
  void AddTracingCounters();
  Histogram* AddHistogram(const std::string& name, const std::string& help,
                          std::vector<double> buckets);

  Histogram* ttft_;
  Histogram* e2e_;
  Histogram* queue_;
  Histogram* prefill_;
  Histogram* decode_;
  Histogram* inference_;
  Histogram* inter_token_latency_;
  Histogram* time_per_output_token_;
  Histogram* prompt_tokens_;
  Histogram* generation_tokens_;
  Histogram* max_num_generation_tokens_;
  Histogram* params_n_;
  Histogram* params_max_tokens_;
  int max_model_len_;
  Counter* rejected_;
  Counter* errors_ = nullptr;
  Counter* prompt_computed_;
  Counter* prompt_cached_;
  Counter* prompt_tokens_total_;
  Histogram* prefill_computed_;
  MetricsRegistry* registry_;
  MetricLabels labels_;
};

}  // namespace lantern::server
