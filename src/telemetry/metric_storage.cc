#include "telemetry/metric_storage.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/clock.h"

namespace lantern::telemetry {
namespace {

void AppendValue(const AttributeValue& value, std::string* out) {
  out->push_back(static_cast<char>('0' + value.index()));  // the type is part of the key
  std::visit(
      [out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          out->append(v);
        } else if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, int64_t> ||
                             std::is_same_v<T, double>) {
          out->append(std::to_string(v));
        } else {
          for (const auto& element : v) {
            if constexpr (std::is_same_v<typename T::value_type, std::string>) {
              out->append(element);
            } else {
              out->append(std::to_string(element));
            }
            out->push_back('\x1f');
          }
        }
      },
      value);
}

bool ExemplarAllowed(ExemplarFilter filter, const SpanContext* span) {
  switch (filter) {
    case ExemplarFilter::kAlwaysOff:
      return false;
    case ExemplarFilter::kAlwaysOn:
      return true;
    case ExemplarFilter::kTraceBased:
      break;
  }
  return span != nullptr && span->IsValid() && span->IsSampled();
}

}  // namespace

std::string AttributesKey(const Attributes& attributes) {
  std::vector<const Attribute*> sorted;
  sorted.reserve(attributes.size());
  for (const Attribute& attribute : attributes) sorted.push_back(&attribute);
  std::sort(sorted.begin(), sorted.end(), [](const Attribute* a, const Attribute* b) {
    return std::string_view(a->key) < std::string_view(b->key);
  });
  std::string key;
  for (const Attribute* attribute : sorted) {
    key.append(std::string_view(attribute->key));
    key.push_back('\0');
    AppendValue(attribute->value, &key);
    key.push_back('\x1e');
  }
  return key;
}

SeriesAggregator::SeriesAggregator(const AggregationConfig* config, int64_t start_time_unix_nano)
    : config_(config), start_(start_time_unix_nano) {
  size_t slots = 1;
  if (config_->type == MetricDataType::kHistogram) {
    counts_.assign(config_->boundaries.size() + 1, 0);
    slots = counts_.size();
  } else if (config_->type == MetricDataType::kExponentialHistogram) {
    exponential_ = std::make_unique<ExponentialHistogramBuckets>(config_->exponential_max_size,
                                                                 config_->exponential_max_scale);
  }
  exemplars_.resize(slots);
  exemplar_set_.assign(slots, false);
}

void SeriesAggregator::OfferExemplar(double value, size_t slot, const SpanContext* span) {
  Exemplar& exemplar = exemplars_[slot];
  exemplar.value = value;
  exemplar.time_unix_nano = ToUnixNanos(Now());
  exemplar.trace_id = span != nullptr ? span->trace_id : TraceId{};
  exemplar.span_id = span != nullptr ? span->span_id : SpanId{};
  exemplar_set_[slot] = true;
}

void SeriesAggregator::Record(double value, const SpanContext* span) {
  const bool exemplar = ExemplarAllowed(config_->exemplar_filter, span);
  std::lock_guard lock(mutex_);
  if (config_->type == MetricDataType::kSum) {
    sum_ += value;
    recorded_ = true;
    if (exemplar) OfferExemplar(value, 0, span);
    return;
  }
  if (std::isnan(value)) return;
  min_ = count_ == 0 ? value : std::min(min_, value);
  max_ = count_ == 0 ? value : std::max(max_, value);
  sum_ += value;
  ++count_;
  recorded_ = true;
  size_t slot = 0;
  if (config_->type == MetricDataType::kHistogram) {
    // Buckets are (previous bound, bound]: the first bound >= value.
    const std::vector<double>& bounds = config_->boundaries;
    slot =
        static_cast<size_t>(std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin());
    ++counts_[slot];
  } else if (exponential_) {
    exponential_->Record(value);
  }
  if (exemplar) OfferExemplar(value, slot, span);
}

void SeriesAggregator::FillLocked(int64_t now, PointData* point) {
  point->start_time_unix_nano = start_;
  point->time_unix_nano = now;
  point->value = sum_;
  point->count = count_;
  point->min = min_;
  point->max = max_;
  if (config_->type == MetricDataType::kHistogram) {
    point->histogram.bounds = config_->boundaries;
    point->histogram.counts = counts_;
  } else if (exponential_) {
    exponential_->Snapshot(&point->exponential);
  }
  for (size_t i = 0; i < exemplars_.size(); ++i) {
    if (exemplar_set_[i]) point->exemplars.push_back(exemplars_[i]);
  }
}

void SeriesAggregator::Read(int64_t now, PointData* point) {
  std::lock_guard lock(mutex_);
  FillLocked(now, point);
}

bool SeriesAggregator::Collect(int64_t now, bool reset, PointData* point) {
  std::lock_guard lock(mutex_);
  if (reset && !recorded_) {
    start_ = now;
    return false;
  }
  FillLocked(now, point);
  // Each collection reports the exemplars of its interval only, whatever the temporality:
  // an exemplar points at a recent trace, not at the first one ever seen.
  exemplar_set_.assign(exemplar_set_.size(), false);
  if (reset) {
    start_ = now;
    recorded_ = false;
    sum_ = 0;
    count_ = 0;
    min_ = max_ = 0;
    std::fill(counts_.begin(), counts_.end(), 0);
    if (exponential_) exponential_->Reset();
  }
  return true;
}

InstrumentStorage::InstrumentStorage(std::string name, InstrumentKind kind,
                                     InstrumentOptions options, AggregationConfig aggregation,
                                     AggregationTemporality temporality, const View* view,
                                     size_t cardinality_limit, int64_t start_time_unix_nano,
                                     ObservableCallback callback)
    : name_(std::move(name)),
      kind_(kind),
      options_(std::move(options)),
      aggregation_(std::move(aggregation)),
      temporality_(temporality),
      filter_attributes_(view != nullptr && view->filter_attributes),
      attribute_keys_(view != nullptr ? view->attribute_keys : std::vector<std::string>{}),
      cardinality_limit_(std::max<size_t>(cardinality_limit, 2)),
      callback_(std::move(callback)),
      start_(start_time_unix_nano) {}

Attributes InstrumentStorage::Filter(const Attributes& attributes) const {
  if (!filter_attributes_) return attributes;
  Attributes kept;
  for (const Attribute& attribute : attributes) {
    if (std::find(attribute_keys_.begin(), attribute_keys_.end(),
                  std::string_view(attribute.key)) != attribute_keys_.end()) {
      kept.push_back(attribute);
    }
  }
  return kept;
}

SeriesAggregator* InstrumentStorage::Series(const Attributes& attributes) {
  Attributes filtered = Filter(attributes);
  std::string key = AttributesKey(filtered);
  std::lock_guard lock(mutex_);
  auto it = series_.find(key);
  if (it != series_.end()) return it->second.series.get();
  if (series_.size() + 1 >= cardinality_limit_) {
    // Past the limit every new attribute set shares one overflow series.
    filtered = {Attribute{"otel.metric.overflow", true}};
    key = AttributesKey(filtered);
    it = series_.find(key);
    if (it != series_.end()) return it->second.series.get();
  }
  Entry& entry = series_[key];
  entry.attributes = std::move(filtered);
  entry.series = std::make_unique<SeriesAggregator>(&aggregation_, start_);
  return entry.series.get();
}

void InstrumentStorage::CollectObservations(int64_t now, MetricData* metric) {
  std::vector<Observation> observations = callback_();
  std::lock_guard lock(mutex_);
  const bool gauge = kind_ == InstrumentKind::kObservableGauge;
  const bool delta = temporality_ == AggregationTemporality::kDelta;
  for (auto& [attributes, value] : observations) {
    if (std::isnan(value)) continue;
    PointData point;
    point.attributes = Filter(attributes);
    point.time_unix_nano = now;
    point.start_time_unix_nano = gauge ? 0 : start_;
    point.value = value;
    if (!gauge && delta) {
      std::string key = AttributesKey(point.attributes);
      auto [it, inserted] = last_totals_.try_emplace(key, 0.0);
      point.value = value - it->second;
      it->second = value;
    }
    metric->points.push_back(std::move(point));
  }
  if (!gauge && delta) start_ = now;
}

void InstrumentStorage::Collect(int64_t now, std::vector<MetricData>* out) {
  MetricData metric;
  metric.name = name_;
  metric.description = options_.description;
  metric.unit = options_.unit;
  metric.type = aggregation_.type;
  metric.temporality = temporality_;
  metric.integer = options_.integer;
  metric.monotonic =
      kind_ == InstrumentKind::kCounter || kind_ == InstrumentKind::kObservableCounter;
  if (callback_) {
    CollectObservations(now, &metric);
  } else {
    const bool reset = temporality_ == AggregationTemporality::kDelta;
    std::vector<std::pair<const Attributes*, SeriesAggregator*>> series;
    {
      std::lock_guard lock(mutex_);
      for (auto& [key, entry] : series_) series.emplace_back(&entry.attributes, entry.series.get());
    }
    for (auto& [attributes, aggregator] : series) {
      PointData point;
      if (!aggregator->Collect(now, reset, &point)) continue;
      point.attributes = *attributes;
      metric.points.push_back(std::move(point));
    }
  }
  if (!metric.points.empty()) out->push_back(std::move(metric));
}

}  // namespace lantern::telemetry
