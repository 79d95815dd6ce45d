// OTLP metrics: the protobuf encoding decoded by the generated classes of proto/, the
// OTLP/JSON encoding's rules, and OtlpMetricExporter's retries, splitting and counting
// with a scripted transport. The real transports are exercised in tests/e2e/telemetry.
#include <gtest/gtest.h>

#include <deque>
#include <nlohmann/json.hpp>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "telemetry/meter_provider.h"
#include "telemetry/otlp_metric_exporter.h"
#include "telemetry/otlp_metrics.h"
#include "telemetry/otlp_transport.h"

namespace lantern::telemetry {
namespace {

namespace pb = ::opentelemetry::proto;
using pb::collector::metrics::v1::ExportMetricsServiceRequest;

// A collection with every metric type, exemplars and attributes.
ResourceMetrics Sample(MeterProvider& provider) {
  Meter meter = provider.GetMeter("lantern.test", "1.2.3");
  SpanContext span;
  span.trace_id.fill(0xab);
  span.span_id.fill(0xcd);
  span.trace_flags = kTraceFlagSampled;
  meter.CreateCounter("tokens", {.unit = "{token}", .integer = true})
      .Record(42, {{"gen_ai.token.type", std::string("input")}}, &span);
  meter.CreateUpDownCounter("running", {.description = "running requests"}).Add(-2.5);
  meter.CreateHistogram("duration", {.unit = "s", .advisory_boundaries = {0.5, 1}})
      .Record(0.7, {{"error.type", std::string("timeout")}}, &span);
  meter.CreateObservableGauge("kv", {}, [] { return std::vector<Observation>{{{}, 0.5}}; });
  return provider.Collect();
}

const pb::metrics::v1::Metric* FindMetric(const ExportMetricsServiceRequest& request,
                                          const std::string& name) {
  for (const auto& sm : request.resource_metrics(0).scope_metrics()) {
    for (const auto& metric : sm.metrics()) {
      if (metric.name() == name) return &metric;
    }
  }
  return nullptr;
}

TEST(OtlpMetricsTest, ProtobufDecodesWithGeneratedClasses) {
  MeterProviderOptions options;
  options.resource.attributes.push_back({"service.name", std::string("svc")});
  MeterProvider provider(std::move(options));
  ResourceMetrics metrics = Sample(provider);
  std::string bytes;
  AppendOtlpMetricsProtobuf(metrics, &bytes);
  ExportMetricsServiceRequest request;
  ASSERT_TRUE(request.ParseFromString(bytes));
  ASSERT_EQ(request.resource_metrics_size(), 1);
  EXPECT_EQ(request.resource_metrics(0).resource().attributes(0).value().string_value(), "svc");
  EXPECT_EQ(request.resource_metrics(0).scope_metrics(0).scope().name(), "lantern.test");
  EXPECT_EQ(request.resource_metrics(0).scope_metrics(0).scope().version(), "1.2.3");

  const auto* tokens = FindMetric(request, "tokens");
  ASSERT_NE(tokens, nullptr);
  ASSERT_TRUE(tokens->has_sum());
  EXPECT_EQ(tokens->unit(), "{token}");
  EXPECT_TRUE(tokens->sum().is_monotonic());
  EXPECT_EQ(tokens->sum().aggregation_temporality(),
            pb::metrics::v1::AGGREGATION_TEMPORALITY_CUMULATIVE);
  EXPECT_EQ(tokens->sum().data_points(0).as_int(), 42);
  EXPECT_EQ(tokens->sum().data_points(0).attributes(0).key(), "gen_ai.token.type");
  ASSERT_EQ(tokens->sum().data_points(0).exemplars_size(), 1);
  EXPECT_EQ(tokens->sum().data_points(0).exemplars(0).trace_id(), std::string(16, '\xab'));
  EXPECT_EQ(tokens->sum().data_points(0).exemplars(0).as_int(), 42);

  const auto* running = FindMetric(request, "running");
  EXPECT_FALSE(running->sum().is_monotonic());
  EXPECT_EQ(running->description(), "running requests");
  EXPECT_EQ(running->sum().data_points(0).as_double(), -2.5);

  const auto* duration = FindMetric(request, "duration");
  ASSERT_TRUE(duration->has_histogram());
  const auto& point = duration->histogram().data_points(0);
  EXPECT_EQ(point.count(), 1u);
  EXPECT_EQ(point.sum(), 0.7);
  EXPECT_EQ(point.min(), 0.7);
  EXPECT_EQ(point.max(), 0.7);
  EXPECT_EQ(std::vector<double>(point.explicit_bounds().begin(), point.explicit_bounds().end()),
            (std::vector<double>{0.5, 1}));
  EXPECT_EQ(std::vector<uint64_t>(point.bucket_counts().begin(), point.bucket_counts().end()),
            (std::vector<uint64_t>{0, 1, 0}));
  EXPECT_EQ(point.exemplars(0).span_id(), std::string(8, '\xcd'));
  EXPECT_EQ(point.exemplars(0).as_double(), 0.7);
  EXPECT_GT(point.start_time_unix_nano(), 0u);
  EXPECT_GE(point.time_unix_nano(), point.start_time_unix_nano());

  const auto* kv = FindMetric(request, "kv");
  ASSERT_TRUE(kv->has_gauge());
  EXPECT_EQ(kv->gauge().data_points(0).as_double(), 0.5);
}

TEST(OtlpMetricsTest, ExponentialHistogramProtobuf) {
  MeterProvider provider({.temporality = TemporalityPreference::kDelta,
                          .default_histogram = AggregationKind::kExponentialHistogram});
  Histogram h = provider.GetMeter("t").CreateHistogram("h");
  for (double v : {0.0, 0.001, 1.0, 3.0, 1000.0, -4.0}) h.Record(v);
  std::string bytes;
  AppendOtlpMetricsProtobuf(provider.Collect(), &bytes);
  ExportMetricsServiceRequest request;
  ASSERT_TRUE(request.ParseFromString(bytes));
  const auto* metric = FindMetric(request, "h");
  ASSERT_TRUE(metric->has_exponential_histogram());
  EXPECT_EQ(metric->exponential_histogram().aggregation_temporality(),
            pb::metrics::v1::AGGREGATION_TEMPORALITY_DELTA);
  const auto& point = metric->exponential_histogram().data_points(0);
  EXPECT_EQ(point.count(), 6u);
  EXPECT_EQ(point.zero_count(), 1u);
  EXPECT_EQ(point.min(), -4.0);
  uint64_t positive = 0;
  for (uint64_t c : point.positive().bucket_counts()) positive += c;
  EXPECT_EQ(positive, 4u);
  EXPECT_EQ(point.negative().bucket_counts_size(), 1);
  // The lowest positive bucket holds 0.001: check the offset against the scale.
  double base = std::pow(2.0, std::pow(2.0, -point.scale()));
  EXPECT_LT(std::pow(base, point.positive().offset()), 0.001 * (1 + 1e-9));
  EXPECT_GE(std::pow(base, point.positive().offset() + 1), 0.001 * (1 - 1e-9));
}

TEST(OtlpMetricsTest, JsonFollowsOtlpRules) {
  MeterProvider provider;
  std::string text;
  AppendOtlpMetricsJson(Sample(provider), &text);
  EXPECT_EQ(text.find('\n'), std::string::npos);
  nlohmann::json json = nlohmann::json::parse(text);
  const auto& metrics = json["resourceMetrics"][0]["scopeMetrics"][0]["metrics"];
  bool saw_histogram = false;
  for (const auto& metric : metrics) {
    if (metric["name"] == "tokens") {
      const auto& point = metric["sum"]["dataPoints"][0];
      EXPECT_EQ(point["asInt"], "42");
      EXPECT_EQ(metric["sum"]["aggregationTemporality"], 2);
      EXPECT_EQ(metric["sum"]["isMonotonic"], true);
      EXPECT_EQ(point["exemplars"][0]["traceId"], "abababababababababababababababab");
      EXPECT_EQ(point["exemplars"][0]["spanId"], "cdcdcdcdcdcdcdcd");
      EXPECT_TRUE(point["timeUnixNano"].is_string());
    }
    if (metric["name"] == "duration") {
      saw_histogram = true;
      const auto& point = metric["histogram"]["dataPoints"][0];
      EXPECT_EQ(point["count"], "1");
      EXPECT_EQ(point["bucketCounts"], nlohmann::json::array({"0", "1", "0"}));
      EXPECT_EQ(point["explicitBounds"], nlohmann::json::array({0.5, 1.0}));
    }
  }
  EXPECT_TRUE(saw_histogram);
}

// --- the exporter ---

class BytesRequest final : public OtlpRequest {
 public:
  size_t ByteSize() const override { return bytes.size(); }
  std::string bytes;
};

class ScriptedTransport final : public OtlpTransport {
 public:
  explicit ScriptedTransport(std::deque<SendOutcome> script) : script_(std::move(script)) {}
  std::unique_ptr<OtlpRequest> Encode(std::span<const SpanData* const>) override { return nullptr; }
  std::unique_ptr<OtlpRequest> EncodeBody(const BodyWriter& write) override {
    auto request = std::make_unique<BytesRequest>();
    write(false, &request->bytes);
    return request;
  }
  SendOutcome Send(const OtlpRequest& request, SteadyTime) override {
    ExportMetricsServiceRequest parsed;
    EXPECT_TRUE(parsed.ParseFromString(static_cast<const BytesRequest&>(request).bytes));
    sent.push_back(parsed);
    if (script_.empty()) return {};
    SendOutcome next = script_.front();
    script_.pop_front();
    return next;
  }
  void Cancel() override {}
  std::string Describe() const override { return "scripted"; }
  std::vector<ExportMetricsServiceRequest> sent;

 private:
  std::deque<SendOutcome> script_;
};

constexpr RetryPolicy kFastRetry{std::chrono::milliseconds(1), std::chrono::milliseconds(2), 1.5,
                                 0};

TEST(OtlpMetricExporterTest, RetriesTransientFailures) {
  MeterProvider provider;
  ResourceMetrics metrics = Sample(provider);
  auto transport = std::make_unique<ScriptedTransport>(std::deque<SendOutcome>{
      {SendOutcome::Kind::kRetryable, {}, 0, "unavailable"},
      {SendOutcome::Kind::kRetryable, std::chrono::milliseconds(1), 0, "busy"}});
  ScriptedTransport* seen = transport.get();
  OtlpMetricExporter exporter(std::move(transport), std::chrono::seconds(5), kFastRetry);
  EXPECT_EQ(exporter.Export(metrics), ExportResult::kSuccess);
  EXPECT_EQ(seen->sent.size(), 3u);
  EXPECT_EQ(exporter.stats().retries, 2u);
  EXPECT_EQ(exporter.stats().points_exported, metrics.PointCount());
}

TEST(OtlpMetricExporterTest, PartialSuccessAndFailureAreCounted) {
  MeterProvider provider;
  ResourceMetrics metrics = Sample(provider);
  auto transport = std::make_unique<ScriptedTransport>(
      std::deque<SendOutcome>{{SendOutcome::Kind::kOk, {}, 1, "one point too old"},
                              {SendOutcome::Kind::kFailed, {}, 0, "bad request"}});
  OtlpMetricExporter exporter(std::move(transport), std::chrono::seconds(5), kFastRetry);
  EXPECT_EQ(exporter.Export(metrics), ExportResult::kSuccess);
  EXPECT_EQ(exporter.stats().points_rejected, 1u);
  EXPECT_EQ(exporter.Export(metrics), ExportResult::kFailure);
  EXPECT_EQ(exporter.stats().points_failed, metrics.PointCount());
  EXPECT_EQ(exporter.stats().retries, 0u);
  exporter.Shutdown(std::chrono::seconds(1));
  EXPECT_EQ(exporter.Export(metrics), ExportResult::kFailure);  // after shutdown
}

TEST(OtlpMetricExporterTest, SplitsOversizedRequestsByMetric) {
  MeterProvider provider;
  ResourceMetrics metrics = Sample(provider);
  auto transport = std::make_unique<ScriptedTransport>(std::deque<SendOutcome>{});
  ScriptedTransport* seen = transport.get();
  OtlpMetricExporter exporter(std::move(transport), std::chrono::seconds(5), kFastRetry,
                              /*max_request_bytes=*/300);
  EXPECT_EQ(exporter.Export(metrics), ExportResult::kSuccess);
  EXPECT_GT(seen->sent.size(), 1u);
  size_t total = 0;
  for (const auto& request : seen->sent) {
    for (const auto& sm : request.resource_metrics(0).scope_metrics()) total += sm.metrics_size();
  }
  EXPECT_EQ(total, 4u);
}

}  // namespace
}  // namespace lantern::telemetry
