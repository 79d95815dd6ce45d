#include "telemetry/meter_provider.h"

#include <algorithm>
#include <atomic>

#include "base/clock.h"
#include "base/log.h"
#include "telemetry/cumulative_series.h"
#include "telemetry/metric_storage.h"

namespace lantern::telemetry {
namespace {

const View* MatchView(const std::vector<View>& views, const std::string& name) {
  for (const View& view : views) {
    if (view.instrument_name == "*" || view.instrument_name == name) return &view;
  }
  return nullptr;
}

bool IsSortedStrictly(const std::vector<double>& bounds) {
  for (size_t i = 1; i < bounds.size(); ++i) {
    if (!(bounds[i - 1] < bounds[i])) return false;
  }
  return true;
}

}  // namespace

AggregationTemporality TemporalityFor(InstrumentKind kind, TemporalityPreference preference) {
  using enum InstrumentKind;
  switch (preference) {
    case TemporalityPreference::kCumulative:
      break;
    case TemporalityPreference::kDelta:
      if (kind == kCounter || kind == kObservableCounter || kind == kHistogram) {
        return AggregationTemporality::kDelta;
      }
      break;
    case TemporalityPreference::kLowMemory:
      if (kind == kCounter || kind == kHistogram) return AggregationTemporality::kDelta;
      break;
  }
  return AggregationTemporality::kCumulative;
}

const std::vector<double>& DefaultHistogramBoundaries() {
  static const std::vector<double> bounds = {0,   5,   10,   25,   50,   75,   100,  250,
                                             500, 750, 1000, 2500, 5000, 7500, 10000};
  return bounds;
}

MeterProvider::MeterProvider(MeterProviderOptions options)
    : options_(std::move(options)),
      resource_(new Resource(options_.resource)),
      start_time_unix_nano_(ToUnixNanos(Now())) {}

// resource_ is not freed: snapshots handed to exporters may still point at it.
MeterProvider::~MeterProvider() = default;

Meter MeterProvider::GetMeter(std::string_view name, std::string_view version) {
  std::lock_guard lock(mutex_);
  for (const auto& scope : scopes_) {
    if (scope->name == name && scope->version == version) return Meter(this, scope.get());
  }
  scopes_.push_back(std::make_unique<InstrumentationScope>(
      InstrumentationScope{std::string(name), std::string(version)}));
  return Meter(this, scopes_.back().get());
}

std::shared_ptr<InstrumentStorage> MeterProvider::AddInstrument(const InstrumentationScope* scope,
                                                                std::string name,
                                                                InstrumentKind kind,
                                                                InstrumentOptions options,
                                                                ObservableCallback callback) {
  const View* view = MatchView(options_.views, name);
  AggregationKind aggregation = view ? view->aggregation : AggregationKind::kDefault;
  if (aggregation == AggregationKind::kDrop) return nullptr;
  AggregationConfig config;
  config.exemplar_filter = options_.exemplar_filter;
  config.exponential_max_size = options_.exponential_max_size;
  config.exponential_max_scale = options_.exponential_max_scale;
  if (kind == InstrumentKind::kHistogram) {
    if (aggregation == AggregationKind::kDefault) aggregation = options_.default_histogram;
    if (aggregation == AggregationKind::kExponentialHistogram) {
      config.type = MetricDataType::kExponentialHistogram;
    } else {
      config.type = MetricDataType::kHistogram;
      config.boundaries = view && !view->boundaries.empty()      ? view->boundaries
                          : !options.advisory_boundaries.empty() ? options.advisory_boundaries
                                                                 : DefaultHistogramBoundaries();
      if (!IsSortedStrictly(config.boundaries)) {
        LANTERN_LOG(kWarning, "metrics") << "histogram " << name << ": bucket boundaries are not "
                                         << "strictly increasing; using the default ones";
        config.boundaries = DefaultHistogramBoundaries();
      }
    }
  } else if (kind == InstrumentKind::kObservableGauge) {
    config.type = MetricDataType::kGauge;
  }
  if (view && !view->name.empty()) name = view->name;

  std::lock_guard lock(mutex_);
  for (const Registered& registered : instruments_) {
    // The same instrument created twice (e.g. by two servers in one test) shares storage.
    if (registered.scope == scope && registered.storage->name() == name &&
        registered.storage->kind() == kind && !callback) {
      return registered.storage;
    }
  }
  auto storage = std::make_shared<InstrumentStorage>(
      std::move(name), kind, std::move(options), std::move(config),
      TemporalityFor(kind, options_.temporality), view, options_.cardinality_limit,
      start_time_unix_nano_, std::move(callback));
  instruments_.push_back({scope, storage});
  return storage;
}

ResourceMetrics MeterProvider::Collect() {
  std::lock_guard collect_lock(collect_mutex_);
  std::vector<Registered> instruments;
  {
    std::lock_guard lock(mutex_);
    instruments = instruments_;
  }
  const int64_t now = ToUnixNanos(Now());
  ResourceMetrics out;
  out.resource = resource_;
  for (const Registered& registered : instruments) {
    auto it = std::find_if(out.scopes.begin(), out.scopes.end(),
                           [&](const ScopeMetrics& s) { return s.scope == registered.scope; });
    if (it == out.scopes.end()) {
      out.scopes.push_back({registered.scope, {}});
      it = out.scopes.end() - 1;
    }
    registered.storage->Collect(now, &it->metrics);
  }
  std::erase_if(out.scopes, [](const ScopeMetrics& s) { return s.metrics.empty(); });
  return out;
}

// --- instruments ---

void BoundInstrument::Record(double value, const SpanContext* span) const {
  if (series_ != nullptr) series_->Record(value, span);
}

void SyncInstrument::Record(double value, const Attributes& attributes,
                            const SpanContext* span) const {
  if (storage_ != nullptr) storage_->Series(attributes)->Record(value, span);
}

void SyncInstrument::Record(double value, const Attributes& attributes, const SpanContext* span,
                            CumulativeSeries* also, int also_times) const {
  Record(value, attributes, span);
  if (also == nullptr) return;
  for (int i = 0; i < also_times; ++i) also->Record(value, span);
}

BoundInstrument SyncInstrument::Bind(const Attributes& attributes) const {
  return BoundInstrument(storage_ ? storage_->Series(attributes) : nullptr);
}

Counter Meter::CreateCounter(std::string name, InstrumentOptions options) {
  if (provider_ == nullptr) return Counter();
  return Counter(provider_->AddInstrument(scope_, std::move(name), InstrumentKind::kCounter,
                                          std::move(options)));
}

UpDownCounter Meter::CreateUpDownCounter(std::string name, InstrumentOptions options) {
  if (provider_ == nullptr) return UpDownCounter();
  return UpDownCounter(provider_->AddInstrument(
      scope_, std::move(name), InstrumentKind::kUpDownCounter, std::move(options)));
}

Histogram Meter::CreateHistogram(std::string name, InstrumentOptions options) {
  if (provider_ == nullptr) return Histogram();
  return Histogram(provider_->AddInstrument(scope_, std::move(name), InstrumentKind::kHistogram,
                                            std::move(options)));
}

void Meter::CreateObservableGauge(std::string name, InstrumentOptions options,
                                  ObservableCallback callback) {
  if (provider_ == nullptr || !callback) return;
  provider_->AddInstrument(scope_, std::move(name), InstrumentKind::kObservableGauge,
                           std::move(options), std::move(callback));
}

void Meter::CreateObservableCounter(std::string name, InstrumentOptions options,
                                    ObservableCallback callback) {
  if (provider_ == nullptr || !callback) return;
  provider_->AddInstrument(scope_, std::move(name), InstrumentKind::kObservableCounter,
                           std::move(options), std::move(callback));
}

void Meter::CreateObservableUpDownCounter(std::string name, InstrumentOptions options,
                                          ObservableCallback callback) {
  if (provider_ == nullptr || !callback) return;
  provider_->AddInstrument(scope_, std::move(name), InstrumentKind::kObservableUpDownCounter,
                           std::move(options), std::move(callback));
}

// --- the global provider ---

namespace {
std::atomic<MeterProvider*> g_provider{nullptr};
std::mutex g_providers_mutex;
// Replaced providers are kept: instruments and bound series created from them may still
// be used by threads that have not seen the change.
std::vector<std::unique_ptr<MeterProvider>>* g_providers =
    new std::vector<std::unique_ptr<MeterProvider>>();
}  // namespace

MeterProvider* GlobalMeterProvider() { return g_provider.load(std::memory_order_acquire); }

void SetGlobalMeterProvider(std::unique_ptr<MeterProvider> provider) {
  std::lock_guard lock(g_providers_mutex);
  g_provider.store(provider.get(), std::memory_order_release);
  if (provider) g_providers->push_back(std::move(provider));
}

Meter GlobalMeter(std::string_view name, std::string_view version) {
  MeterProvider* provider = GlobalMeterProvider();
  if (provider == nullptr) return Meter(nullptr, nullptr);
  return provider->GetMeter(name, version);
}

}  // namespace lantern::telemetry
