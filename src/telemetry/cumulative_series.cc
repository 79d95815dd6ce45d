#include "telemetry/cumulative_series.h"

#include "base/clock.h"
#include "telemetry/metric_storage.h"

namespace lantern::telemetry {

CumulativeSeries::CumulativeSeries()
    : config_(std::make_unique<AggregationConfig>()),
      aggregator_(std::make_unique<SeriesAggregator>(config_.get(), ToUnixNanos(Now()))) {}

CumulativeSeries::CumulativeSeries(std::vector<double> bounds)
    : config_(std::make_unique<AggregationConfig>(
          AggregationConfig{.type = MetricDataType::kHistogram, .boundaries = std::move(bounds)})),
      aggregator_(std::make_unique<SeriesAggregator>(config_.get(), ToUnixNanos(Now()))) {}

CumulativeSeries::~CumulativeSeries() = default;

void CumulativeSeries::Record(double value, const SpanContext* span) {
  aggregator_->Record(value, span);
}

PointData CumulativeSeries::Read() const {
  PointData point;
  aggregator_->Read(ToUnixNanos(Now()), &point);
  return point;
}

}  // namespace lantern::telemetry
