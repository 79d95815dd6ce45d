// One aggregate of the metrics SDK that a pull reader reads in place: the Prometheus
// exposition (/metrics) keeps its series here, in the same SeriesAggregator storage the
// OTLP reader collects. A measurement that both outputs show is recorded once, by one
// SyncInstrument::Record call that aggregates it into the instrument's OTLP stream and
// into the /metrics series it names (with their own buckets, attributes and counting:
// vLLM counts a request with n sequences n times, the GenAI conventions once).
//
// A cumulative series never resets, and keeps each histogram bucket's latest exemplar
// until a newer one replaces it (a scrape does not consume it, unlike an OTLP
// collection, which reports the exemplars of its interval only).
#pragma once

#include <memory>
#include <vector>

#include "telemetry/metric_data.h"
#include "telemetry/span_context.h"

namespace lantern::telemetry {

class SeriesAggregator;
struct AggregationConfig;

class CumulativeSeries {
 public:
  // A monotonic sum (a counter).
  CumulativeSeries();
  // An explicit-bucket histogram; `bounds` strictly increasing upper bounds.
  explicit CumulativeSeries(std::vector<double> bounds);
  ~CumulativeSeries();
  CumulativeSeries(const CumulativeSeries&) = delete;
  CumulativeSeries& operator=(const CumulativeSeries&) = delete;

  // `span`: exemplar candidate, kept when valid and sampled. One short lock.
  void Record(double value, const SpanContext* span = nullptr);
  // Everything recorded so far: value (sum), count, buckets (histogram.bounds and
  // non-cumulative counts) and the buckets' exemplars.
  PointData Read() const;

 private:
  std::unique_ptr<AggregationConfig> config_;
  std::unique_ptr<SeriesAggregator> aggregator_;
};

}  // namespace lantern::telemetry
