// The `lantern:*` metrics of one served model, as vLLM users chart them (vLLM's names with
// the lantern prefix, each with a model_name label): latency histograms per request, token
// counters and histograms, and engine gauges and counters read at scrape time.
#pragma once

#include <functional>
#include <string>

#include "engine/engine_stats.h"
#include "engine/request.h"
#include "server/metrics.h"

namespace lantern::server {

class ServingMetrics {
 public:
  ServingMetrics(MetricsRegistry* registry, const std::string& model_name, int max_model_len);

  // Engine-wide gauges and counters come from `read_counters` at each scrape.
  void SetEngineCountersSource(std::function<engine::EngineCounters()> read_counters);

  // One finished engine request (all its sequences), from its final metrics.
  void RecordFinished(const engine::RequestMetrics& metrics);
  // The gap between two consecutive tokens of one sequence.
  void RecordInterTokenLatency(double seconds) { inter_token_latency_->Observe(seconds); }
  // A request rejected before it reached the engine (e.g. 503 when overloaded).
  void RecordRejected() { rejected_->Increment(); }

 private:
  // lantern:tracing_* from the telemetry SDK's own counters, read at scrape time.
  void AddTracingCounters();

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
  Counter* rejected_;
  MetricsRegistry* registry_;
  MetricLabels labels_;
};

}  // namespace lantern::server
