// The /metrics registry: the families and series of the Prometheus text exposition (0.0.4)
// and OpenMetrics 1.0 (with exemplars), in lantern's or vLLM's names. Metrics sharing a
// name form one family (one HELP and TYPE line). A family may also be served under vLLM's
// name (`lantern:x` as `vllm:x`, with vLLM's `engine` label): one set of series, two
// renderings.
//
// One store for both outputs: a histogram's and a counter's aggregate is a series of the
// telemetry metrics SDK (telemetry/cumulative_series.h), not a second copy kept here. Where
// OTLP shows the same measurement (a request's duration, TTFT, queue, prefill and decode
// time; an HTTP exchange's duration), the server records it once through the SDK
// instrument, naming this registry's series as the second aggregation of that one call
// (Histogram::series()); the registry only names, labels and renders what the SDK holds.
// Gauges are set once (info gauges) or read at scrape time from their source.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "telemetry/cumulative_series.h"
#include "telemetry/span_context.h"

namespace lantern::server {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// How /metrics names its series: lantern's own (`lantern:`) or vLLM's (`vllm:`).
enum class MetricsNaming { kLantern, kVllm };

struct Exposition {
  MetricsNaming naming = MetricsNaming::kLantern;
  // OpenMetrics 1.0 (counters' `_total` samples, `# UNIT`, exemplars, `# EOF`) instead of
  // the Prometheus text format.
  bool openmetrics = false;
};

// The trace an observation was made in (lowercase hex ids), kept as an exemplar.
struct ExemplarContext {
  std::string trace_id = {};  // 32 hex digits
  std::string span_id = {};   // 16 hex digits
};

class Counter {
 public:
  void Increment(double amount = 1.0) { series_.Record(amount); }
  double value() const { return series_.Read().value; }
  telemetry::CumulativeSeries* series() { return &series_; }

 private:
  telemetry::CumulativeSeries series_;  // a monotonic sum
};

class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double amount);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  struct Exemplar {
    ExemplarContext context;
    double value = 0;
    double unix_seconds = 0;  // when it was observed
  };

  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double value) { series_.Record(value); }
  // Also keeps `exemplar` as the latest exemplar of the bucket `value` falls in.
  void Observe(double value, const ExemplarContext& exemplar);
  // `span`: kept as the bucket's exemplar when valid and sampled; may be null.
  void Observe(double value, const telemetry::SpanContext* span) { series_.Record(value, span); }

  // The SDK series behind this histogram: a telemetry instrument's Record(..., also =
  // series(), n) aggregates one measurement into OTLP's stream and here at once.
  telemetry::CumulativeSeries* series() { return &series_; }

  const std::vector<double>& upper_bounds() const { return bounds_; }
  // Non-cumulative count of bucket i (the last one is +Inf).
  uint64_t bucket_count(size_t i) const { return series_.Read().histogram.counts.at(i); }
  uint64_t count() const { return series_.Read().count; }
  double sum() const { return series_.Read().value; }
  // The latest exemplar of bucket i, if any was observed.
  bool exemplar(size_t i, Exemplar* out) const;

  // One consistent reading, for rendering.
  struct Snapshot {
    std::vector<uint64_t> counts;  // per bucket, non-cumulative (last: +Inf)
    double sum = 0;
    std::vector<std::optional<Exemplar>> exemplars;  // per bucket
  };
  Snapshot Read() const;

 private:
  const std::vector<double> bounds_;
  telemetry::CumulativeSeries series_;
};

class MetricsRegistry {
 public:
  // The returned pointers live as long as the registry. Names must be valid Prometheus
  // metric names; registering a name with another type is a programming error.
  Counter* AddCounter(const std::string& name, const std::string& help, MetricLabels labels);
  Gauge* AddGauge(const std::string& name, const std::string& help, MetricLabels labels);
  // A gauge read at scrape time (e.g. the engine's queue lengths).
  void AddCallbackGauge(const std::string& name, const std::string& help, MetricLabels labels,
                        std::function<double()> read);
  // A counter read at scrape time from a source that keeps its own monotonic total.
  void AddCallbackCounter(const std::string& name, const std::string& help, MetricLabels labels,
                          std::function<double()> read);
  Histogram* AddHistogram(const std::string& name, const std::string& help, MetricLabels labels,
                          std::vector<double> upper_bounds);

  // The family `name` ("lantern:x") is one of vLLM's: with MetricsNaming::kVllm it is
  // served as "vllm:x" with an `engine="0"` label after `model_name` (or last), as vLLM's
  // single engine core labels it. Other families keep their names in both namings.
  void ServeAsVllm(const std::string& name);

  std::string Render(const Exposition& exposition) const;
  // The Prometheus text format with lantern's names.
  std::string RenderPrometheus() const { return Render({}); }

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    MetricLabels labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::function<double()> read;
    std::unique_ptr<Histogram> histogram;
  };
  struct Family {
    std::string name, help;
    Type type;
    std::vector<std::unique_ptr<Series>> series;
    bool vllm = false;
  };
  Series& AddSeries(const std::string& name, const std::string& help, Type type,
                    MetricLabels labels);
  static void RenderFamily(const Family& family, const Exposition& exposition, std::string* out);

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Family>> families_;
};

// The content type a scraper's Accept header asks for: OpenMetrics when it names
// application/openmetrics-text, otherwise the Prometheus text format.
bool WantsOpenMetrics(const std::string& accept_header);
inline constexpr const char* kPrometheusTextContentType =
    "text/plain; version=0.0.4; charset=utf-8";
inline constexpr const char* kOpenMetricsContentType =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

// 1, 2, 5, 10, 20, 50, ... up to and including max (vLLM's build_1_2_5_buckets: every
// value <= max).
std::vector<double> OneTwoFiveBuckets(double max);

}  // namespace lantern::server
