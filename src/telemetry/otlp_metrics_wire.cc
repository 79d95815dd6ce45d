// AppendOtlpMetricsProtobuf (otlp_metrics.h): field numbers are those of
// proto/opentelemetry/proto/metrics/v1/metrics.proto.
#include "telemetry/ids.h"
#include "telemetry/otlp_metrics.h"
#include "telemetry/otlp_wire_writer.h"

namespace lantern::telemetry {
namespace {

using otlp_wire::Writer;

namespace field {
constexpr uint32_t kRequestResourceMetrics = 1;
constexpr uint32_t kResourceMetricsResource = 1, kResourceMetricsScopeMetrics = 2;
constexpr uint32_t kScopeMetricsScope = 1, kScopeMetricsMetrics = 2;
constexpr uint32_t kMetricName = 1, kMetricDescription = 2, kMetricUnit = 3, kMetricGauge = 5,
                   kMetricSum = 7, kMetricHistogram = 9, kMetricExponentialHistogram = 10;
constexpr uint32_t kDataPoints = 1, kTemporality = 2, kSumMonotonic = 3;
constexpr uint32_t kNumberAttributes = 7, kNumberStart = 2, kNumberTime = 3, kNumberDouble = 4,
                   kNumberExemplars = 5, kNumberInt = 6;
constexpr uint32_t kHistogramAttributes = 9, kHistogramStart = 2, kHistogramTime = 3,
                   kHistogramCount = 4, kHistogramSum = 5, kHistogramBucketCounts = 6,
                   kHistogramBounds = 7, kHistogramExemplars = 8, kHistogramMin = 11,
                   kHistogramMax = 12;
constexpr uint32_t kExpAttributes = 1, kExpStart = 2, kExpTime = 3, kExpCount = 4, kExpSum = 5,
                   kExpScale = 6, kExpZeroCount = 7, kExpPositive = 8, kExpNegative = 9,
                   kExpExemplars = 11, kExpMin = 12, kExpMax = 13;
constexpr uint32_t kBucketsOffset = 1, kBucketsCounts = 2;
constexpr uint32_t kExemplarTime = 2, kExemplarDouble = 3, kExemplarSpanId = 4,
                   kExemplarTraceId = 5, kExemplarInt = 6;
}  // namespace field

uint64_t ZigZag(int32_t value) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(value)) << 1) ^
         static_cast<uint64_t>(static_cast<int64_t>(value) >> 63);
}

void WriteExemplars(Writer& w, uint32_t number, const std::vector<Exemplar>& exemplars,
                    bool integer) {
  for (const Exemplar& exemplar : exemplars) {
    size_t e = w.BeginMessage(number);
    w.Fixed64FieldIfSet(field::kExemplarTime, static_cast<uint64_t>(exemplar.time_unix_nano));
    if (integer) {
      w.Fixed64Field(field::kExemplarInt,
                     static_cast<uint64_t>(static_cast<int64_t>(exemplar.value)));
    } else {
      w.DoubleField(field::kExemplarDouble, exemplar.value);
    }
    if (IsValid(exemplar.span_id)) {
      w.BytesField(field::kExemplarSpanId, exemplar.span_id.data(), exemplar.span_id.size());
    }
    if (IsValid(exemplar.trace_id)) {
      w.BytesField(field::kExemplarTraceId, exemplar.trace_id.data(), exemplar.trace_id.size());
    }
    w.EndMessage(e);
  }
}

void WriteNumberPoint(Writer& w, const PointData& point, bool integer) {
  size_t p = w.BeginMessage(field::kDataPoints);
  otlp_wire::WriteAttributes(w, field::kNumberAttributes, point.attributes);
  w.Fixed64FieldIfSet(field::kNumberStart, static_cast<uint64_t>(point.start_time_unix_nano));
  w.Fixed64FieldIfSet(field::kNumberTime, static_cast<uint64_t>(point.time_unix_nano));
  if (integer) {
    w.Fixed64Field(field::kNumberInt, static_cast<uint64_t>(static_cast<int64_t>(point.value)));
  } else {
    w.DoubleField(field::kNumberDouble, point.value);
  }
  WriteExemplars(w, field::kNumberExemplars, point.exemplars, integer);
  w.EndMessage(p);
}

void WriteHistogramPoint(Writer& w, const PointData& point) {
  size_t p = w.BeginMessage(field::kDataPoints);
  otlp_wire::WriteAttributes(w, field::kHistogramAttributes, point.attributes);
  w.Fixed64FieldIfSet(field::kHistogramStart, static_cast<uint64_t>(point.start_time_unix_nano));
  w.Fixed64FieldIfSet(field::kHistogramTime, static_cast<uint64_t>(point.time_unix_nano));
  w.Fixed64Field(field::kHistogramCount, point.count);
  w.DoubleField(field::kHistogramSum, point.value);
  // Packed repeated fixed64 and double.
  w.BytesField(field::kHistogramBucketCounts, point.histogram.counts.data(),
               point.histogram.counts.size() * sizeof(uint64_t));
  if (!point.histogram.bounds.empty()) {
    w.BytesField(field::kHistogramBounds, point.histogram.bounds.data(),
                 point.histogram.bounds.size() * sizeof(double));
  }
  WriteExemplars(w, field::kHistogramExemplars, point.exemplars, false);
  if (point.count > 0) {
    w.DoubleField(field::kHistogramMin, point.min);
    w.DoubleField(field::kHistogramMax, point.max);
  }
  w.EndMessage(p);
}

void WriteBuckets(Writer& w, uint32_t number, const ExponentialBuckets& buckets) {
  size_t b = w.BeginMessage(number);
  w.VarintFieldIfSet(field::kBucketsOffset, ZigZag(buckets.offset));
  if (!buckets.counts.empty()) {
    std::string packed;
    Writer counts(&packed);
    for (uint64_t count : buckets.counts) counts.Varint(count);
    w.BytesField(field::kBucketsCounts, packed.data(), packed.size());
  }
  w.EndMessage(b);
}

void WriteExponentialPoint(Writer& w, const PointData& point) {
  size_t p = w.BeginMessage(field::kDataPoints);
  otlp_wire::WriteAttributes(w, field::kExpAttributes, point.attributes);
  w.Fixed64FieldIfSet(field::kExpStart, static_cast<uint64_t>(point.start_time_unix_nano));
  w.Fixed64FieldIfSet(field::kExpTime, static_cast<uint64_t>(point.time_unix_nano));
  w.Fixed64Field(field::kExpCount, point.count);
  w.DoubleField(field::kExpSum, point.value);
  w.VarintFieldIfSet(field::kExpScale, ZigZag(point.exponential.scale));
  w.Fixed64FieldIfSet(field::kExpZeroCount, point.exponential.zero_count);
  WriteBuckets(w, field::kExpPositive, point.exponential.positive);
  WriteBuckets(w, field::kExpNegative, point.exponential.negative);
  WriteExemplars(w, field::kExpExemplars, point.exemplars, false);
  if (point.count > 0) {
    w.DoubleField(field::kExpMin, point.min);
    w.DoubleField(field::kExpMax, point.max);
  }
  w.EndMessage(p);
}

void WriteMetric(Writer& w, const MetricData& metric) {
  size_t m = w.BeginMessage(field::kScopeMetricsMetrics);
  w.StringFieldIfSet(field::kMetricName, metric.name);
  w.StringFieldIfSet(field::kMetricDescription, metric.description);
  w.StringFieldIfSet(field::kMetricUnit, metric.unit);
  uint32_t data_field = field::kMetricSum;
  switch (metric.type) {
    case MetricDataType::kGauge:
      data_field = field::kMetricGauge;
      break;
    case MetricDataType::kHistogram:
      data_field = field::kMetricHistogram;
      break;
    case MetricDataType::kExponentialHistogram:
      data_field = field::kMetricExponentialHistogram;
      break;
    case MetricDataType::kSum:
      break;
  }
  size_t data = w.BeginMessage(data_field);
  for (const PointData& point : metric.points) {
    if (metric.type == MetricDataType::kHistogram) {
      WriteHistogramPoint(w, point);
    } else if (metric.type == MetricDataType::kExponentialHistogram) {
      WriteExponentialPoint(w, point);
    } else {
      WriteNumberPoint(w, point, metric.integer);
    }
  }
  if (metric.type != MetricDataType::kGauge) {
    w.VarintFieldIfSet(field::kTemporality, static_cast<uint64_t>(metric.temporality));
  }
  if (metric.type == MetricDataType::kSum && metric.monotonic) {
    w.VarintField(field::kSumMonotonic, 1);
  }
  w.EndMessage(data);
  w.EndMessage(m);
}

}  // namespace

void AppendOtlpMetricsProtobuf(const ResourceMetrics& metrics, std::string* out) {
  Writer w(out);
  size_t resource_metrics = w.BeginMessage(field::kRequestResourceMetrics);
  size_t resource = w.BeginMessage(field::kResourceMetricsResource);
  otlp_wire::WriteResourceBody(w, metrics.resource);
  w.EndMessage(resource);
  for (const ScopeMetrics& scope_metrics : metrics.scopes) {
    size_t sm = w.BeginMessage(field::kResourceMetricsScopeMetrics);
    size_t scope = w.BeginMessage(field::kScopeMetricsScope);
    otlp_wire::WriteScopeBody(w, scope_metrics.scope);
    w.EndMessage(scope);
    for (const MetricData& metric : scope_metrics.metrics) WriteMetric(w, metric);
    w.EndMessage(sm);
  }
  w.EndMessage(resource_metrics);
}

}  // namespace lantern::telemetry
