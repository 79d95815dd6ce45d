// The metrics API: a MeterProvider hands out Meters, which create instruments (counter,
// up-down counter, histogram, observable gauge/counter). Recording never blocks on I/O: it
// updates an in-memory aggregate under a short per-series lock; a metric reader
// (metric_reader.h) collects and exports off the request path.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "telemetry/metric_data.h"
#include "telemetry/span_context.h"

namespace lantern::telemetry {

class InstrumentStorage;  // metric_storage.h: aggregates of one instrument, per attribute set
class SeriesAggregator;
class CumulativeSeries;  // cumulative_series.h: a series a pull reader (/metrics) reads

enum class AggregationKind {
  kDefault,               // by instrument kind (histograms: the provider's default)
  kDrop,                  // not collected
  kExplicitHistogram,     // explicit bucket boundaries
  kExponentialHistogram,  // base-2 exponential buckets, scale adjusted to the data
};

// Optional per-instrument settings, as the API's advisory parameters allow.
struct InstrumentOptions {
  std::string description{};
  std::string unit{};
  // Advisory explicit bucket boundaries for a histogram (the semantic conventions give
  // these); empty: the SDK's default boundaries.
  std::vector<double> advisory_boundaries{};
  bool integer = false;  // whole-number values (exported as integers)
};

// A view, only as far as needed: matches an instrument by name ("*" for all) and
// renames it, changes its aggregation, or keeps only some attribute keys.
struct View {
  std::string instrument_name{};
  std::string name{};  // empty: keep the instrument's name
  AggregationKind aggregation = AggregationKind::kDefault;
  std::vector<double> boundaries{};  // kExplicitHistogram: empty uses the default rules
  bool filter_attributes = false;
  std::vector<std::string> attribute_keys{};  // kept when filter_attributes
};

// Which temporality exporters ask for, per OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE.
enum class TemporalityPreference { kCumulative, kDelta, kLowMemory };

// One aggregated series, already looked up: recording through it skips the attribute
// lookup. Valid as long as its provider.
class BoundInstrument {
 public:
  BoundInstrument() = default;
  explicit BoundInstrument(SeriesAggregator* series) : series_(series) {}
  // `span`: exemplar candidate (a sampled span's context); nullptr when none.
  void Record(double value, const SpanContext* span = nullptr) const;
  bool enabled() const { return series_ != nullptr; }

 private:
  SeriesAggregator* series_ = nullptr;
};

// Counter (monotonic sum), up-down counter (sum) and histogram share one shape: values
// with attributes. A null storage (dropped by a view, or the no-op provider) records nothing.
class SyncInstrument {
 public:
  SyncInstrument() = default;
  explicit SyncInstrument(std::shared_ptr<InstrumentStorage> storage)
      : storage_(std::move(storage)) {}
  void Record(double value, const Attributes& attributes = {},
              const SpanContext* span = nullptr) const;
  // One measurement aggregated into this instrument and, `also_times` times (0: not at
  // all), into `also` (may be null): the /metrics series that shows the same measurement
  // with its own buckets and counting, so that both outputs come from one recording.
  void Record(double value, const Attributes& attributes, const SpanContext* span,
              CumulativeSeries* also, int also_times) const;
  BoundInstrument Bind(const Attributes& attributes) const;
  bool enabled() const { return storage_ != nullptr; }

 protected:
  std::shared_ptr<InstrumentStorage> storage_;
};

class Counter : public SyncInstrument {
 public:
  using SyncInstrument::SyncInstrument;
  // Negative values are a caller error and are ignored.
  void Add(double value, const Attributes& attributes = {}) const {
    if (value >= 0) Record(value, attributes);
  }
};
class UpDownCounter : public SyncInstrument {
 public:
  using SyncInstrument::SyncInstrument;
  void Add(double value, const Attributes& attributes = {}) const { Record(value, attributes); }
};
class Histogram : public SyncInstrument {
 public:
  using SyncInstrument::SyncInstrument;
};

// Observations returned by an observable instrument's callback at each collection.
using Observation = std::pair<Attributes, double>;
using ObservableCallback = std::function<std::vector<Observation>()>;

class MeterProvider;

class Meter {
 public:
  Meter(MeterProvider* provider, const InstrumentationScope* scope)
      : provider_(provider), scope_(scope) {}
  Counter CreateCounter(std::string name, InstrumentOptions options = {});
  UpDownCounter CreateUpDownCounter(std::string name, InstrumentOptions options = {});
  Histogram CreateHistogram(std::string name, InstrumentOptions options = {});
  // Callbacks run on the reader's thread at each collection; they must be quick.
  void CreateObservableGauge(std::string name, InstrumentOptions options,
                             ObservableCallback callback);
  // `callback` returns monotonic totals (as a process-wide counter keeps them).
  void CreateObservableCounter(std::string name, InstrumentOptions options,
                               ObservableCallback callback);
  void CreateObservableUpDownCounter(std::string name, InstrumentOptions options,
                                     ObservableCallback callback);

 private:
  MeterProvider* provider_;
  const InstrumentationScope* scope_;
};

}  // namespace lantern::telemetry
