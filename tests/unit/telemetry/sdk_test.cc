// Env parsing rules, span limits from the environment, exporter choice and Init.
#include "telemetry/sdk.h"

#include <gtest/gtest.h>

#include "in_memory_exporter.h"
#include "telemetry/propagation.h"
#include "telemetry/tracer.h"
#include "test_env.h"

namespace lantern::telemetry {
namespace {

TEST(Env, EmptyMeansUnset) {
  EXPECT_FALSE(EnvString(MapEnv({{"X", ""}}), "X"));
  EXPECT_EQ(EnvString(MapEnv({{"X", "v"}}), "X"), "v");
}

TEST(Env, OnlyTrueIsTrue) {
  for (const char* yes : {"true", "TRUE", "True", " true "}) {
    EXPECT_TRUE(EnvBool(MapEnv({{"B", yes}}), "B")) << yes;
  }
  for (const char* no : {"false", "1", "yes", "on", "", "tru"}) {
    EXPECT_FALSE(EnvBool(MapEnv({{"B", no}}), "B")) << no;
  }
  EXPECT_FALSE(EnvBool(MapEnv({}), "B"));
}

TEST(Env, IntegersAreNonNegativeAndWhole) {
  EXPECT_EQ(EnvInt(MapEnv({{"N", "42"}}), "N"), 42);
  EXPECT_EQ(EnvInt(MapEnv({{"N", " 7 "}}), "N"), 7);
  for (const char* bad : {"-1", "1.5", "12ms", "abc", "99999999999999999999"}) {
    EXPECT_FALSE(EnvInt(MapEnv({{"N", bad}}), "N")) << bad;
  }
}

TEST(SpanLimitsEnv, DefaultsAndPrecedence) {
  SpanLimits d = SpanLimitsFromEnv(MapEnv({}));
  EXPECT_EQ(d.attribute_count, 128u);
  EXPECT_EQ(d.event_count, 128u);
  EXPECT_EQ(d.link_count, 128u);
  EXPECT_EQ(d.event_attribute_count, 128u);
  EXPECT_EQ(d.link_attribute_count, 128u);
  EXPECT_EQ(d.attribute_value_length, SpanLimits::kUnlimited);

  SpanLimits general = SpanLimitsFromEnv(
      MapEnv({{"OTEL_ATTRIBUTE_COUNT_LIMIT", "10"}, {"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "20"}}));
  EXPECT_EQ(general.attribute_count, 10u);
  EXPECT_EQ(general.event_attribute_count, 10u);
  EXPECT_EQ(general.link_attribute_count, 10u);
  EXPECT_EQ(general.attribute_value_length, 20u);

  SpanLimits specific =
      SpanLimitsFromEnv(MapEnv({{"OTEL_ATTRIBUTE_COUNT_LIMIT", "10"},
                                {"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "3"},
                                {"OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "4"},
                                {"OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "5"},
                                {"OTEL_SPAN_EVENT_COUNT_LIMIT", "6"},
                                {"OTEL_SPAN_LINK_COUNT_LIMIT", "7"},
                                {"OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "20"},
                                {"OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "8"}}));
  EXPECT_EQ(specific.attribute_count, 3u);
  EXPECT_EQ(specific.event_attribute_count, 4u);
  EXPECT_EQ(specific.link_attribute_count, 5u);
  EXPECT_EQ(specific.event_count, 6u);
  EXPECT_EQ(specific.link_count, 7u);
  EXPECT_EQ(specific.attribute_value_length, 8u);

  SpanLimits bad = SpanLimitsFromEnv(MapEnv({{"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "lots"}}));
  EXPECT_EQ(bad.attribute_count, 128u);
}

TEST(ChooseExporters, EndpointOrExporterTurnsTracingOn) {
  TelemetryOptions none;
  auto choose = [&](std::map<std::string, std::string> vars, const TelemetryOptions& o) {
    return ChooseExporters(MapEnv(std::move(vars)), o);
  };
  using List = std::vector<std::string>;
  EXPECT_EQ(choose({}, none), List{});
  EXPECT_EQ(choose({{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "grpc://jaeger:4317"}}, none),
            List{"otlp"});
  EXPECT_EQ(choose({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}}, none), List{"otlp"});
  EXPECT_EQ(choose({{"OTEL_TRACES_EXPORTER", "console"}}, none), List{"console"});
  EXPECT_EQ(choose({{"OTEL_TRACES_EXPORTER", "OTLP, console,zipkin"}}, none),
            (List{"otlp", "console"}));
  EXPECT_EQ(
      choose({{"OTEL_TRACES_EXPORTER", "none"}, {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"}},
             none),
      List{});
  TelemetryOptions flag;
  flag.otlp_traces_endpoint = "http://localhost:4317";
  EXPECT_EQ(choose({}, flag), List{"otlp"});
  EXPECT_EQ(choose({{"OTEL_TRACES_EXPORTER", "console"}}, flag), (List{"otlp", "console"}));
}

TEST(Init, InstallsAProviderThatExportsThroughBatchProcessors) {
  auto store = std::make_shared<InMemoryExporter::Store>();
  TelemetryOptions options;
  options.env = MapEnv({{"OTEL_SERVICE_NAME", "lantern-test"},
                        {"OTEL_TRACES_SAMPLER", "always_on"},
                        {"OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "1"},
                        {"OTEL_PROPAGATORS", "tracecontext"}});
  options.shutdown_at_exit = false;
  options.extra_exporters.push_back(std::make_unique<InMemoryExporter>(store));
  auto config = Init(std::move(options));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_TRUE(config->enabled);
  EXPECT_EQ(config->exporters, std::vector<std::string>{"extra"});
  EXPECT_EQ(config->sampler, "AlwaysOnSampler");
  EXPECT_EQ(config->service_name, "lantern-test");
  EXPECT_EQ(GlobalPropagator().Fields(), (std::vector<std::string>{"traceparent", "tracestate"}));

  Span span = tracer("init-test").StartSpan("s");
  span.SetAttribute("a", 1);
  span.SetAttribute("b", 2);
  span.End();
  EXPECT_TRUE(ForceFlush(std::chrono::seconds(30)));
  {
    std::lock_guard<std::mutex> lock(store->mu);
    ASSERT_EQ(store->spans.size(), 1u);
    EXPECT_EQ(store->spans[0].dropped_attributes_count, 1u);
    EXPECT_EQ(store->spans[0].resource->attributes.empty(), false);
  }
  EXPECT_TRUE(Shutdown(std::chrono::seconds(30)));
  EXPECT_TRUE(Shutdown(std::chrono::seconds(30)));
  EXPECT_FALSE(tracer("init-test").StartSpan("after").IsRecording());

  // OTEL_SDK_DISABLED wins over everything and leaves no-op tracers.
  TelemetryOptions disabled;
  disabled.env = MapEnv({{"OTEL_SDK_DISABLED", "TRUE"}, {"OTEL_TRACES_EXPORTER", "console"}});
  disabled.shutdown_at_exit = false;
  auto off = Init(std::move(disabled));
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->enabled);
  EXPECT_EQ(GlobalTracerProvider(), nullptr);
  EXPECT_FALSE(tracer("init-test").Enabled());
}

}  // namespace
}  // namespace lantern::telemetry
