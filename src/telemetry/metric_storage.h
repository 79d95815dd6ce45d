// Internal to the metrics SDK: the aggregate of one attribute set (SeriesAggregator) and
// of one instrument (InstrumentStorage: its series by attribute set, bounded by the
// cardinality limit). Instruments hold a shared_ptr to their storage; the provider
// collects from it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "telemetry/exponential_histogram.h"
#include "telemetry/meter_provider.h"
#include "telemetry/metric_data.h"

namespace lantern::telemetry {

// How an instrument's measurements are aggregated, resolved from its kind, its options,
// the views and the provider's defaults.
struct AggregationConfig {
  MetricDataType type = MetricDataType::kSum;
  std::vector<double> boundaries;  // explicit histograms
  int exponential_max_size = 160;
  int exponential_max_scale = 20;
  ExemplarFilter exemplar_filter = ExemplarFilter::kTraceBased;
};

class SeriesAggregator {
 public:
  SeriesAggregator(const AggregationConfig* config, int64_t start_time_unix_nano);

  // `span` is an exemplar candidate. Takes one short uncontended lock.
  void Record(double value, const SpanContext* span);
  // Fills the point's value, count, min/max, buckets and exemplars. With `reset` (delta
  // temporality) the next interval starts empty at `now`. False when a delta interval
  // recorded nothing (no point is exported for it).
  bool Collect(int64_t now, bool reset, PointData* point);
  // The same point for a pull reader (cumulative_series.h): resets nothing, and leaves the
  // exemplars in place for the next read.
  void Read(int64_t now, PointData* point);

 private:
  void OfferExemplar(double value, size_t slot, const SpanContext* span);
  void FillLocked(int64_t now, PointData* point);  // mutex_ held

  const AggregationConfig* config_;
  std::mutex mutex_;
  int64_t start_ = 0;
  bool recorded_ = false;
  double sum_ = 0;
  uint64_t count_ = 0;
  double min_ = 0;
  double max_ = 0;
  std::vector<uint64_t> counts_;  // explicit histograms
  std::unique_ptr<ExponentialHistogramBuckets> exponential_;
  // One slot per explicit bucket (the latest sampled measurement that fell in it), one for
  // other aggregations: the specification's aligned-bucket and size-1 reservoirs.
  std::vector<Exemplar> exemplars_;
  std::vector<bool> exemplar_set_;
};

class InstrumentStorage {
 public:
  InstrumentStorage(std::string name, InstrumentKind kind, InstrumentOptions options,
                    AggregationConfig aggregation, AggregationTemporality temporality,
                    const View* view, size_t cardinality_limit, int64_t start_time_unix_nano,
                    ObservableCallback callback);

  const std::string& name() const { return name_; }
  InstrumentKind kind() const { return kind_; }

  // The series of `attributes` (after the view's attribute filter); created on first use.
  SeriesAggregator* Series(const Attributes& attributes);
  // Appends this instrument's metric (no points: nothing appended).
  void Collect(int64_t now, std::vector<MetricData>* out);

 private:
  Attributes Filter(const Attributes& attributes) const;
  void CollectObservations(int64_t now, MetricData* metric);

  const std::string name_;
  const InstrumentKind kind_;
  const InstrumentOptions options_;
  const AggregationConfig aggregation_;
  const AggregationTemporality temporality_;
  const bool filter_attributes_;
  const std::vector<std::string> attribute_keys_;
  const size_t cardinality_limit_;
  const ObservableCallback callback_;

  std::mutex mutex_;
  int64_t start_;  // guarded by mutex_
  struct Entry {
    Attributes attributes;
    std::unique_ptr<SeriesAggregator> series;
  };
  std::map<std::string, Entry> series_;  // by canonical attribute key; guarded by mutex_
  // Observable counters under delta: the totals reported last time, by attribute key.
  std::map<std::string, double> last_totals_;  // guarded by mutex_
};

// A canonical string for an attribute set (sorted by key), used as a map key.
std::string AttributesKey(const Attributes& attributes);

}  // namespace lantern::telemetry
