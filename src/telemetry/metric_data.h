// What the metrics SDK hands to metric exporters at each collection: one snapshot of every
// instrument's aggregated points, owned and immutable. Exporters (OTLP gRPC/HTTP, console)
// translate these; nothing else crosses that boundary (as SpanData does for traces).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "telemetry/span_data.h"

namespace lantern::telemetry {

// Values are the OTLP enum numbers.
enum class AggregationTemporality : int { kUnspecified = 0, kDelta = 1, kCumulative = 2 };

enum class MetricDataType { kSum, kGauge, kHistogram, kExponentialHistogram };

// A measurement made inside a sampled span: links a data point to its trace.
struct Exemplar {
  TraceId trace_id{};
  SpanId span_id{};
  int64_t time_unix_nano = 0;
  double value = 0;
};

struct HistogramPointData {
  std::vector<double> bounds;    // upper bounds, inclusive
  std::vector<uint64_t> counts;  // bounds.size() + 1 non-cumulative bucket counts
};

struct ExponentialBuckets {
  int32_t offset = 0;            // index of counts[0]
  std::vector<uint64_t> counts;  // bucket offset+i covers (base^(offset+i), base^(offset+i+1)]
};

struct ExponentialHistogramPointData {
  int32_t scale = 0;  // base = 2^(2^-scale)
  uint64_t zero_count = 0;
  ExponentialBuckets positive;
  ExponentialBuckets negative;
};

struct PointData {
  Attributes attributes;
  int64_t start_time_unix_nano = 0;
  int64_t time_unix_nano = 0;
  // Sum and gauge: the value. Histograms: the sum of the recorded values.
  double value = 0;
  // Histograms only.
  uint64_t count = 0;
  double min = 0;
  double max = 0;
  HistogramPointData histogram;
  ExponentialHistogramPointData exponential;
  std::vector<Exemplar> exemplars;
};

struct MetricData {
  std::string name;
  std::string description;
  std::string unit;
  MetricDataType type = MetricDataType::kSum;
  AggregationTemporality temporality = AggregationTemporality::kCumulative;  // not for gauges
  bool monotonic = false;                                                    // sums only
  bool integer = false;  // values are whole numbers: exported as as_int
  std::vector<PointData> points;
};

struct ScopeMetrics {
  const InstrumentationScope* scope = nullptr;  // lives as long as the meter provider
  std::vector<MetricData> metrics;
};

// One collection: everything a provider measured, under its resource.
struct ResourceMetrics {
  const Resource* resource = nullptr;  // lives as long as the meter provider
  std::vector<ScopeMetrics> scopes;

  size_t PointCount() const {
    size_t n = 0;
    for (const ScopeMetrics& scope : scopes) {
      for (const MetricData& metric : scope.metrics) n += metric.points.size();
    }
    return n;
  }
};

}  // namespace lantern::telemetry
