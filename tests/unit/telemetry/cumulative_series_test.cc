#include "telemetry/cumulative_series.h"

#include <gtest/gtest.h>

#include "telemetry/meter_provider.h"
#include "telemetry/metrics.h"

namespace lantern::telemetry {
namespace {

SpanContext Sampled() {
  SpanContext span;
  span.trace_id[0] = 0x0a;
  span.span_id[0] = 0x0b;
  span.trace_flags = kTraceFlagSampled;
  return span;
}

// A pull reader's series: cumulative, and a read leaves the exemplars for the next read.
TEST(CumulativeSeriesTest, ReadsKeepTotalsAndExemplars) {
  CumulativeSeries h({1.0, 2.0});
  const SpanContext span = Sampled();
  h.Record(0.5);
  h.Record(1.5, &span);
  h.Record(7);
  for (int read = 0; read < 2; ++read) {
    PointData point = h.Read();
    EXPECT_EQ(point.count, 3u);
    EXPECT_EQ(point.value, 9);
    EXPECT_EQ(point.histogram.counts, (std::vector<uint64_t>{1, 1, 1}));
    ASSERT_EQ(point.exemplars.size(), 1u);
    EXPECT_EQ(point.exemplars[0].value, 1.5);
    EXPECT_EQ(point.exemplars[0].trace_id, span.trace_id);
  }
  CumulativeSeries counter;
  counter.Record(2);
  counter.Record(3);
  EXPECT_EQ(counter.Read().value, 5);
}

// One Record call aggregates a measurement into the instrument (what OTLP collects) and,
// `also_times` times, into the pull series.
TEST(CumulativeSeriesTest, OneRecordingFeedsTheInstrumentAndTheSeries) {
  MeterProvider provider;
  Histogram instrument = provider.GetMeter("test").CreateHistogram(
      "d", {.unit = "s", .advisory_boundaries = {0.1, 1.0}});
  CumulativeSeries series({0.5, 5.0});
  instrument.Record(0.25, {}, nullptr, &series, 2);
  instrument.Record(3.0, {}, nullptr, &series, 0);  // not a measurement the series shows
  instrument.Record(0.75, {}, nullptr, nullptr, 1);
  ResourceMetrics collected = provider.Collect();
  ASSERT_EQ(collected.scopes.size(), 1u);
  ASSERT_EQ(collected.scopes[0].metrics.size(), 1u);
  const PointData& otlp = collected.scopes[0].metrics[0].points.at(0);
  EXPECT_EQ(otlp.count, 3u);
  EXPECT_EQ(otlp.value, 4);
  PointData pulled = series.Read();
  EXPECT_EQ(pulled.count, 2u);
  EXPECT_EQ(pulled.value, 0.5);
  EXPECT_EQ(pulled.histogram.counts, (std::vector<uint64_t>{2, 0, 0}));
}

}  // namespace
}  // namespace lantern::telemetry
