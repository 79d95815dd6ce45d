// /metrics carries the telemetry SDK's own counters (lantern:tracing_*), read at scrape
// time, with the model_name label like every other series.
#include <gtest/gtest.h>

#include <string>

#include "server/metrics.h"
#include "server/serving_metrics.h"
#include "span_capture.h"
#include "telemetry/health.h"

namespace lantern::server {
namespace {

// The value of the series line that starts with `series` ("name{labels}"), or -1.
double Value(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

TEST(TracingMetrics, SeriesFollowTheSdkCounters) {
  MetricsRegistry registry;
  ServingMetrics metrics(&registry, "tiny", 128, {});
  const std::string started = "lantern:tracing_spans_started_total{model_name=\"tiny\"}";
  double before = Value(registry.RenderPrometheus(), started);
  ASSERT_GE(before, 0) << registry.RenderPrometheus();
  {
    testing::SpanCapture capture;
    capture.tracer().StartSpan("one").End();
  }
  std::string text = registry.RenderPrometheus();
  EXPECT_EQ(Value(text, started), before + 1);
  EXPECT_EQ(Value(text, "lantern:tracing_spans_exported_total{model_name=\"tiny\"}"),
            static_cast<double>(telemetry::ReadHealth().spans_exported));
  EXPECT_GE(Value(text, "lantern:tracing_export_failures_total{model_name=\"tiny\"}"), 0);
  for (const char* reason : {"queue_full", "export_failed", "shutdown", "rejected", "too_large"}) {
    std::string series = "lantern:tracing_spans_dropped_total{model_name=\"tiny\",reason=\"" +
                         std::string(reason) + "\"}";
    EXPECT_GE(Value(text, series), 0) << series << "\n" << text;
  }
  EXPECT_NE(text.find("# TYPE lantern:tracing_spans_dropped_total counter\n"), std::string::npos);
}

}  // namespace
}  // namespace lantern::server
