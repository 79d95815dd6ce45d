// The metrics variables of the OpenTelemetry specification: exporter choice, per-signal
// OTLP options, interval/timeout, temporality and default histogram aggregation.
#include <gtest/gtest.h>

#include "telemetry/metrics_sdk.h"
#include "telemetry/otlp_config.h"
#include "test_env.h"

namespace lantern::telemetry {
namespace {

using Strings = std::vector<std::string>;

TEST(MetricsEnvTest, ExporterChoice) {
  EXPECT_EQ(ChooseMetricExporters(MapEnv({})), Strings{});
  // Zero-config: an OTLP endpoint alone turns it on.
  EXPECT_EQ(ChooseMetricExporters(MapEnv({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"}})),
            Strings{"otlp"});
  EXPECT_EQ(
      ChooseMetricExporters(MapEnv({{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://c:4317"}})),
      Strings{"otlp"});
  EXPECT_EQ(ChooseMetricExporters(MapEnv({{"OTEL_METRICS_EXPORTER", " OTLP, prometheus,bogus"}})),
            (Strings{"otlp", "prometheus"}));
  EXPECT_EQ(ChooseMetricExporters(MapEnv({{"OTEL_METRICS_EXPORTER", "otlp,none"},
                                          {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c"}})),
            Strings{"none"});
  EXPECT_EQ(ChooseMetricExporters(MapEnv({{"OTEL_METRICS_EXPORTER", "console"}})),
            Strings{"console"});
}

TEST(MetricsEnvTest, TemporalityAggregationAndFilter) {
  EXPECT_EQ(TemporalityPreferenceFromEnv(MapEnv({})), TemporalityPreference::kCumulative);
  auto temporality = [](const char* v) {
    return TemporalityPreferenceFromEnv(
        MapEnv({{"OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", v}}));
  };
  EXPECT_EQ(temporality("Delta"), TemporalityPreference::kDelta);
  EXPECT_EQ(temporality("lowmemory"), TemporalityPreference::kLowMemory);
  EXPECT_EQ(temporality("weekly"), TemporalityPreference::kCumulative);
  auto aggregation = [](const char* v) {
    return DefaultHistogramAggregationFromEnv(
        MapEnv({{"OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION", v}}));
  };
  EXPECT_EQ(aggregation("base2_exponential_bucket_histogram"),
            AggregationKind::kExponentialHistogram);
  EXPECT_EQ(aggregation("explicit_bucket_histogram"), AggregationKind::kExplicitHistogram);
  EXPECT_EQ(aggregation("tdigest"), AggregationKind::kExplicitHistogram);
  EXPECT_EQ(ExemplarFilterFromEnv(MapEnv({{"OTEL_METRICS_EXEMPLAR_FILTER", "always_off"}})),
            ExemplarFilter::kAlwaysOff);
  EXPECT_EQ(ExemplarFilterFromEnv(MapEnv({})), ExemplarFilter::kTraceBased);
}

TEST(MetricsEnvTest, IntervalAndTimeout) {
  PeriodicReaderOptions defaults = PeriodicReaderOptionsFromEnv(MapEnv({}));
  EXPECT_EQ(defaults.interval, std::chrono::milliseconds(60000));
  EXPECT_EQ(defaults.timeout, std::chrono::milliseconds(30000));
  PeriodicReaderOptions set = PeriodicReaderOptionsFromEnv(
      MapEnv({{"OTEL_METRIC_EXPORT_INTERVAL", "500"}, {"OTEL_METRIC_EXPORT_TIMEOUT", "0"}}));
  EXPECT_EQ(set.interval, std::chrono::milliseconds(500));
  EXPECT_EQ(set.timeout, std::chrono::milliseconds(30000));  // 0 is refused
}

TEST(MetricsEnvTest, PerSignalOtlpOptions) {
  EnvLookup env = MapEnv({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"},
                          {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"},
                          {"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "1000"},
                          {"OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "2000"},
                          {"OTEL_EXPORTER_OTLP_METRICS_HEADERS", "tenant=acme"},
                          {"OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "gzip"}});
  Result<OtlpExporterOptions> metrics = OtlpExporterOptionsFromEnv(env, "", OtlpSignal::kMetrics);
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(metrics->endpoint, "http://collector:4318/v1/metrics");
  EXPECT_EQ(metrics->timeout, std::chrono::milliseconds(2000));
  EXPECT_EQ(metrics->compression, OtlpCompression::kGzip);
  ASSERT_EQ(metrics->headers.size(), 1u);
  EXPECT_EQ(metrics->signal, OtlpSignal::kMetrics);
  Result<OtlpExporterOptions> traces = OtlpExporterOptionsFromEnv(env, "");
  EXPECT_EQ(traces->endpoint, "http://collector:4318/v1/traces");
  EXPECT_EQ(traces->timeout, std::chrono::milliseconds(1000));
  EXPECT_TRUE(traces->headers.empty());
  // The per-signal endpoint is used as is; the default has the signal's path.
  EXPECT_EQ(OtlpExporterOptionsFromEnv(
                MapEnv({{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://m:9/custom"},
                        {"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/json"}}),
                "", OtlpSignal::kMetrics)
                ->endpoint,
            "http://m:9/custom");
  EXPECT_EQ(OtlpExporterOptionsFromEnv(MapEnv({{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"}}), "",
                                       OtlpSignal::kLogs)
                ->endpoint,
            "http://localhost:4318/v1/logs");
}

TEST(MetricsEnvTest, InitInstallsProviderAndNoneTurnsOff) {
  Result<MetricsConfig> off =
      InitMetrics({.env = MapEnv({{"OTEL_METRICS_EXPORTER", "none"}}), .shutdown_at_exit = false});
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->enabled);
  EXPECT_FALSE(off->prometheus);
  EXPECT_EQ(GlobalMeterProvider(), nullptr);
  Result<MetricsConfig> disabled =
      InitMetrics({.env = MapEnv({{"OTEL_SDK_DISABLED", "true"}}), .shutdown_at_exit = false});
  EXPECT_FALSE(disabled->enabled);
  Result<MetricsConfig> prometheus = InitMetrics(
      {.env = MapEnv({{"OTEL_METRICS_EXPORTER", "prometheus"}}), .shutdown_at_exit = false});
  ASSERT_TRUE(prometheus.ok());
  EXPECT_TRUE(prometheus->enabled);  // instruments aggregate for /metrics
  EXPECT_TRUE(prometheus->exporters.empty());
  EXPECT_NE(GlobalMeterProvider(), nullptr);
  Result<MetricsConfig> bad_cert =
      InitMetrics({.env = MapEnv({{"OTEL_METRICS_EXPORTER", "otlp"},
                                  {"OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf"},
                                  {"OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE", "/nonexistent.pem"}}),
                   .shutdown_at_exit = false});
  EXPECT_FALSE(bad_cert.ok());
  EXPECT_TRUE(ShutdownMetrics(std::chrono::seconds(1)));
}

}  // namespace
}  // namespace lantern::telemetry
