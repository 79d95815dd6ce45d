// The metrics SDK: instruments, aggregation, temporality, views, cardinality limit and
// exemplars, checked on the snapshots MeterProvider::Collect hands to exporters.
#include <gtest/gtest.h>

#include <thread>

#include "telemetry/meter_provider.h"
#include "telemetry/metrics.h"

namespace lantern::telemetry {
namespace {

const MetricData* Find(const ResourceMetrics& metrics, std::string_view name) {
  for (const ScopeMetrics& scope : metrics.scopes) {
    for (const MetricData& metric : scope.metrics) {
      if (metric.name == name) return &metric;
    }
  }
  return nullptr;
}

std::string StringAttribute(const PointData& point, std::string_view key) {
  for (const Attribute& attribute : point.attributes) {
    if (std::string_view(attribute.key) == key) return std::get<std::string>(attribute.value);
  }
  return "";
}

SpanContext Sampled(uint8_t seed) {
  SpanContext context;
  context.trace_id.fill(seed);
  context.span_id.fill(static_cast<uint8_t>(seed + 1));
  context.trace_flags = kTraceFlagSampled;
  return context;
}

TEST(MetricsTest, CounterSumsPerAttributeSetCumulatively) {
  MeterProvider provider;
  Counter tokens = provider.GetMeter("test").CreateCounter(
      "gen_ai.client.token.usage", {.description = "tokens", .unit = "{token}", .integer = true});
  tokens.Add(3, {{"gen_ai.token.type", std::string("input")}});
  tokens.Add(4, {{"gen_ai.token.type", std::string("input")}});
  tokens.Add(5, {{"gen_ai.token.type", std::string("output")}});
  tokens.Add(-1, {{"gen_ai.token.type", std::string("output")}});  // ignored: monotonic
  ResourceMetrics first = provider.Collect();
  const MetricData* metric = Find(first, "gen_ai.client.token.usage");
  ASSERT_NE(metric, nullptr);
  EXPECT_EQ(metric->type, MetricDataType::kSum);
  EXPECT_TRUE(metric->monotonic);
  EXPECT_TRUE(metric->integer);
  EXPECT_EQ(metric->unit, "{token}");
  EXPECT_EQ(metric->temporality, AggregationTemporality::kCumulative);
  ASSERT_EQ(metric->points.size(), 2u);
  for (const PointData& point : metric->points) {
    EXPECT_EQ(point.value, StringAttribute(point, "gen_ai.token.type") == "input" ? 7 : 5);
    EXPECT_GT(point.time_unix_nano, 0);
    EXPECT_LE(point.start_time_unix_nano, point.time_unix_nano);
  }
  tokens.Add(1, {{"gen_ai.token.type", std::string("input")}});
  const MetricData* again = Find(provider.Collect(), "gen_ai.client.token.usage");
  // (Collect returns by value: find in a kept copy.)
  ResourceMetrics second = provider.Collect();
  again = Find(second, "gen_ai.client.token.usage");
  ASSERT_NE(again, nullptr);
  for (const PointData& point : again->points) {
    EXPECT_EQ(point.value, StringAttribute(point, "gen_ai.token.type") == "input" ? 8 : 5);
    EXPECT_EQ(point.start_time_unix_nano, metric->points[0].start_time_unix_nano);
  }
}

TEST(MetricsTest, DeltaTemporalityResetsAndSkipsQuietIntervals) {
  MeterProvider provider({.temporality = TemporalityPreference::kDelta});
  Meter meter = provider.GetMeter("test");
  Counter counter = meter.CreateCounter("requests");
  UpDownCounter running = meter.CreateUpDownCounter("running");
  Histogram latency = meter.CreateHistogram("latency", {.advisory_boundaries = {1, 2}});
  counter.Add(2);
  running.Add(3);
  latency.Record(1.5);
  ResourceMetrics first = provider.Collect();
  EXPECT_EQ(Find(first, "requests")->temporality, AggregationTemporality::kDelta);
  EXPECT_EQ(Find(first, "requests")->points[0].value, 2);
  // Up-down counters stay cumulative under the delta preference (the specification's table).
  EXPECT_EQ(Find(first, "running")->temporality, AggregationTemporality::kCumulative);
  EXPECT_EQ(Find(first, "latency")->temporality, AggregationTemporality::kDelta);
  const int64_t first_end = Find(first, "requests")->points[0].time_unix_nano;

  counter.Add(1);
  running.Add(-1);
  ResourceMetrics second = provider.Collect();
  const PointData& delta = Find(second, "requests")->points[0];
  EXPECT_EQ(delta.value, 1);
  EXPECT_EQ(delta.start_time_unix_nano, first_end);  // the next interval starts there
  EXPECT_EQ(Find(second, "running")->points[0].value, 2);
  EXPECT_EQ(Find(second, "latency"), nullptr);  // nothing recorded: no point
}

TEST(MetricsTest, LowMemoryPreference) {
  EXPECT_EQ(TemporalityFor(InstrumentKind::kCounter, TemporalityPreference::kLowMemory),
            AggregationTemporality::kDelta);
  EXPECT_EQ(TemporalityFor(InstrumentKind::kHistogram, TemporalityPreference::kLowMemory),
            AggregationTemporality::kDelta);
  EXPECT_EQ(TemporalityFor(InstrumentKind::kObservableCounter, TemporalityPreference::kLowMemory),
            AggregationTemporality::kCumulative);
  EXPECT_EQ(TemporalityFor(InstrumentKind::kObservableCounter, TemporalityPreference::kDelta),
            AggregationTemporality::kDelta);
  EXPECT_EQ(TemporalityFor(InstrumentKind::kUpDownCounter, TemporalityPreference::kDelta),
            AggregationTemporality::kCumulative);
}

TEST(MetricsTest, ExplicitHistogramBucketsAreUpperInclusive) {
  MeterProvider provider;
  Histogram histogram = provider.GetMeter("test").CreateHistogram(
      "gen_ai.server.request.duration", {.unit = "s", .advisory_boundaries = {0.01, 0.02, 0.04}});
  for (double v : {0.005, 0.01, 0.015, 0.04, 0.05, 1.0}) histogram.Record(v);
  ResourceMetrics metrics = provider.Collect();
  const MetricData* metric = Find(metrics, "gen_ai.server.request.duration");
  ASSERT_NE(metric, nullptr);
  EXPECT_EQ(metric->type, MetricDataType::kHistogram);
  const PointData& point = metric->points[0];
  EXPECT_EQ(point.histogram.bounds, (std::vector<double>{0.01, 0.02, 0.04}));
  EXPECT_EQ(point.histogram.counts, (std::vector<uint64_t>{2, 1, 1, 2}));
  EXPECT_EQ(point.count, 6u);
  EXPECT_DOUBLE_EQ(point.value, 1.12);
  EXPECT_EQ(point.min, 0.005);
  EXPECT_EQ(point.max, 1.0);
}

TEST(MetricsTest, DefaultBoundariesWithoutAdvice) {
  MeterProvider provider;
  Histogram histogram = provider.GetMeter("test").CreateHistogram("h");
  histogram.Record(7);
  ResourceMetrics metrics = provider.Collect();
  EXPECT_EQ(Find(metrics, "h")->points[0].histogram.bounds, DefaultHistogramBoundaries());
}

TEST(MetricsTest, ExponentialHistogramByDefaultAggregation) {
  MeterProvider provider({.default_histogram = AggregationKind::kExponentialHistogram});
  Histogram histogram = provider.GetMeter("test").CreateHistogram(
      "latency", {.advisory_boundaries = {1, 2}});  // advice is for explicit buckets only
  for (int i = 1; i <= 1000; ++i) histogram.Record(i * 0.001);
  ResourceMetrics metrics = provider.Collect();
  const MetricData* metric = Find(metrics, "latency");
  ASSERT_EQ(metric->type, MetricDataType::kExponentialHistogram);
  const PointData& point = metric->points[0];
  EXPECT_EQ(point.count, 1000u);
  uint64_t total = 0;
  for (uint64_t c : point.exponential.positive.counts) total += c;
  EXPECT_EQ(total, 1000u);
  EXPECT_LE(point.exponential.positive.counts.size(), 160u);
  EXPECT_LT(point.exponential.scale, 20);
}

TEST(MetricsTest, ViewsRenameDropFilterAndRebucket) {
  MeterProviderOptions options;
  options.views.push_back({.instrument_name = "dropped", .aggregation = AggregationKind::kDrop});
  options.views.push_back({.instrument_name = "renamed", .name = "new.name"});
  options.views.push_back({.instrument_name = "filtered",
                           .aggregation = AggregationKind::kExplicitHistogram,
                           .boundaries = {10},
                           .filter_attributes = true,
                           .attribute_keys = {"keep"}});
  MeterProvider provider(std::move(options));
  Meter meter = provider.GetMeter("test");
  Counter dropped = meter.CreateCounter("dropped");
  EXPECT_FALSE(dropped.enabled());
  dropped.Add(1);
  meter.CreateCounter("renamed").Add(1);
  Histogram filtered = meter.CreateHistogram("filtered");
  filtered.Record(5, {{"keep", std::string("a")}, {"drop", std::string("x")}});
  filtered.Record(50, {{"keep", std::string("a")}, {"drop", std::string("y")}});
  ResourceMetrics metrics = provider.Collect();
  EXPECT_EQ(Find(metrics, "dropped"), nullptr);
  EXPECT_EQ(Find(metrics, "renamed"), nullptr);
  ASSERT_NE(Find(metrics, "new.name"), nullptr);
  const MetricData* metric = Find(metrics, "filtered");
  ASSERT_EQ(metric->points.size(), 1u);
  EXPECT_EQ(metric->points[0].attributes.size(), 1u);
  EXPECT_EQ(metric->points[0].histogram.counts, (std::vector<uint64_t>{1, 1}));
}

TEST(MetricsTest, CardinalityLimitFoldsIntoOverflowSeries) {
  MeterProvider provider({.cardinality_limit = 10});
  Counter counter = provider.GetMeter("test").CreateCounter("c");
  for (int i = 0; i < 100; ++i) counter.Add(1, {{"i", int64_t{i}}});
  ResourceMetrics metrics = provider.Collect();
  const MetricData* metric = Find(metrics, "c");
  ASSERT_EQ(metric->points.size(), 10u);
  double total = 0;
  bool overflow = false;
  for (const PointData& point : metric->points) {
    total += point.value;
    for (const Attribute& a : point.attributes) {
      overflow |= std::string_view(a.key) == "otel.metric.overflow";
    }
  }
  EXPECT_EQ(total, 100);
  EXPECT_TRUE(overflow);
}

TEST(MetricsTest, ObservableInstruments) {
  MeterProvider provider({.temporality = TemporalityPreference::kDelta});
  Meter meter = provider.GetMeter("test");
  double total = 10;
  meter.CreateObservableGauge("kv_usage", {.unit = "1"}, [] {
    return std::vector<Observation>{{{{"pool", std::string("gpu")}}, 0.25}};
  });
  meter.CreateObservableCounter("preemptions", {}, [&total] {
    return std::vector<Observation>{{{}, total}};
  });
  ResourceMetrics first = provider.Collect();
  EXPECT_EQ(Find(first, "kv_usage")->type, MetricDataType::kGauge);
  EXPECT_EQ(Find(first, "kv_usage")->points[0].value, 0.25);
  EXPECT_EQ(Find(first, "preemptions")->points[0].value, 10);
  total = 13;
  ResourceMetrics second = provider.Collect();
  EXPECT_EQ(Find(second, "preemptions")->points[0].value, 3);  // delta of the totals
}

TEST(MetricsTest, ExemplarsComeFromSampledSpansOnly) {
  MeterProvider provider;
  Histogram histogram =
      provider.GetMeter("test").CreateHistogram("ttft", {.advisory_boundaries = {0.1, 1}});
  SpanContext sampled = Sampled(0x11);
  SpanContext unsampled = Sampled(0x22);
  unsampled.trace_flags = 0;
  histogram.Record(0.05, {}, &sampled);
  histogram.Record(0.5, {}, &unsampled);
  histogram.Record(5, {}, nullptr);
  ResourceMetrics metrics = provider.Collect();
  const PointData& point = Find(metrics, "ttft")->points[0];
  ASSERT_EQ(point.exemplars.size(), 1u);
  EXPECT_EQ(point.exemplars[0].trace_id, sampled.trace_id);
  EXPECT_EQ(point.exemplars[0].span_id, sampled.span_id);
  EXPECT_EQ(point.exemplars[0].value, 0.05);
  EXPECT_GT(point.exemplars[0].time_unix_nano, 0);
  // Each collection carries the exemplars of its own interval.
  ResourceMetrics next = provider.Collect();
  EXPECT_TRUE(Find(next, "ttft")->points[0].exemplars.empty());
}

TEST(MetricsTest, ExemplarFilterAlwaysOff) {
  MeterProvider provider({.exemplar_filter = ExemplarFilter::kAlwaysOff});
  Counter counter = provider.GetMeter("test").CreateCounter("c");
  SpanContext sampled = Sampled(1);
  counter.Record(1, {}, &sampled);
  ResourceMetrics metrics = provider.Collect();
  EXPECT_TRUE(Find(metrics, "c")->points[0].exemplars.empty());
}

TEST(MetricsTest, BoundInstrumentsAndThreads) {
  MeterProvider provider;
  Histogram histogram = provider.GetMeter("test").CreateHistogram("h");
  BoundInstrument bound = histogram.Bind({{"model", std::string("m")}});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) bound.Record(1);
    });
  }
  for (std::thread& thread : threads) thread.join();
  ResourceMetrics metrics = provider.Collect();
  EXPECT_EQ(Find(metrics, "h")->points[0].count, 40000u);
}

TEST(MetricsTest, NoProviderMeansNoOps) {
  Meter meter(nullptr, nullptr);
  Counter counter = meter.CreateCounter("c");
  EXPECT_FALSE(counter.enabled());
  counter.Add(1);
  EXPECT_FALSE(counter.Bind({}).enabled());
}

TEST(MetricsTest, SameInstrumentTwiceSharesStorage) {
  MeterProvider provider;
  Meter meter = provider.GetMeter("test");
  meter.CreateCounter("c").Add(1);
  meter.CreateCounter("c").Add(2);
  ResourceMetrics metrics = provider.Collect();
  EXPECT_EQ(Find(metrics, "c")->points[0].value, 3);
}

}  // namespace
}  // namespace lantern::telemetry
