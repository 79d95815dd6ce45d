// The metrics SDK's root: owns the resource, the meters and every instrument's storage,
// applies views and the temporality preference, and produces a ResourceMetrics snapshot
// at each Collect (called by one metric reader, metric_reader.h).
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "telemetry/metric_data.h"
#include "telemetry/metrics.h"

namespace lantern::telemetry {

enum class InstrumentKind {
  kCounter,
  kUpDownCounter,
  kHistogram,
  kObservableGauge,
  kObservableCounter,
  kObservableUpDownCounter,
};

// OTEL_METRICS_EXEMPLAR_FILTER: which measurements may become exemplars.
enum class ExemplarFilter { kTraceBased, kAlwaysOn, kAlwaysOff };

struct MeterProviderOptions {
  Resource resource{};
  std::vector<View> views{};
  TemporalityPreference temporality = TemporalityPreference::kCumulative;
  // The aggregation histograms get when no view names one
  // (OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION).
  AggregationKind default_histogram = AggregationKind::kExplicitHistogram;
  ExemplarFilter exemplar_filter = ExemplarFilter::kTraceBased;
  // At most this many attribute sets per instrument; later ones are folded into one series
  // with otel.metric.overflow=true (the specification's default limit).
  size_t cardinality_limit = 2000;
  // Base-2 exponential histograms: at most this many buckets per sign, starting scale.
  int exponential_max_size = 160;
  int exponential_max_scale = 20;
};

// The temporality of `kind` under `preference` (the specification's table; gauges are
// reported as cumulative, which exporters ignore).
AggregationTemporality TemporalityFor(InstrumentKind kind, TemporalityPreference preference);

// The SDK's default explicit bucket boundaries (for histograms without advice or view).
const std::vector<double>& DefaultHistogramBoundaries();

class MeterProvider {
 public:
  explicit MeterProvider(MeterProviderOptions options = {});
  ~MeterProvider();
  MeterProvider(const MeterProvider&) = delete;
  MeterProvider& operator=(const MeterProvider&) = delete;

  // Meters with the same name and version are the same meter.
  Meter GetMeter(std::string_view name, std::string_view version = "");

  // One snapshot of every instrument; delta instruments restart from now. Runs the
  // observable callbacks. Called by one reader at a time.
  ResourceMetrics Collect();

  const Resource& resource() const { return *resource_; }
  const MeterProviderOptions& options() const { return options_; }

  // For Meter: creates (or returns the existing) storage of an instrument; null when a
  // view drops it.
  std::shared_ptr<InstrumentStorage> AddInstrument(const InstrumentationScope* scope,
                                                   std::string name, InstrumentKind kind,
                                                   InstrumentOptions options,
                                                   ObservableCallback callback = nullptr);

 private:
  struct Registered {
    const InstrumentationScope* scope;
    std::shared_ptr<InstrumentStorage> storage;
  };

  MeterProviderOptions options_;
  const Resource* resource_;  // kept for the process's life: snapshots point at it
  const int64_t start_time_unix_nano_;

  std::mutex mutex_;
  std::vector<std::unique_ptr<InstrumentationScope>> scopes_;  // guarded by mutex_
  std::vector<Registered> instruments_;                        // guarded by mutex_
  std::mutex collect_mutex_;                                   // one Collect at a time
};

// The process-wide provider the server records into; null until InitMetrics installs one
// (instruments created from a null provider are no-ops). Not owned by the caller.
MeterProvider* GlobalMeterProvider();
void SetGlobalMeterProvider(std::unique_ptr<MeterProvider> provider);
// A meter of the global provider; a no-op meter when none is installed.
Meter GlobalMeter(std::string_view name, std::string_view version = "");

}  // namespace lantern::telemetry
