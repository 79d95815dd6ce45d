// One set of measurements behind /metrics and OTLP: a request's timings and an HTTP
// exchange's duration are recorded once, into the metrics SDK's storage, and both the
// /metrics text and the OTLP reader's collection show that one recording — each with its
// own buckets and counting (vLLM counts a request with n sequences n times).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <sstream>
#include <string>

#include "base/clock.h"
#include "server/genai_metrics.h"
#include "server/http_metrics.h"
#include "server/metrics.h"
#include "server/serving_metrics.h"
#include "telemetry/ids.h"
#include "telemetry/meter_provider.h"

namespace lantern::server {
namespace {

// The value of the sample line that starts with `series` (e.g. "x_count{...}").
double Sample(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

// An OTLP metric's count and sum over all its points, and whether an exemplar names `trace`.
struct OtlpTotals {
  uint64_t count = 0;
  double sum = 0;
  bool exemplar_of_trace = false;
};
OtlpTotals Otlp(const telemetry::ResourceMetrics& collected, const std::string& name,
                const telemetry::TraceId& trace) {
  OtlpTotals totals;
  for (const auto& scope : collected.scopes) {
    for (const auto& metric : scope.metrics) {
      if (metric.name != name) continue;
      for (const auto& point : metric.points) {
        totals.count += point.count;
        totals.sum += point.value;
        for (const auto& e : point.exemplars) totals.exemplar_of_trace |= e.trace_id == trace;
      }
    }
  }
  return totals;
}

class OneRecordingMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name :
         {"OTEL_SDK_DISABLED", "OTEL_METRICS_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT",
          "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"}) {
      ::unsetenv(name);
    }
    // Metrics on with no exporter: the test reads what the OTLP reader would collect.
    StartGenAiMetrics([] { return engine::EngineCounters{}; });
    ASSERT_NE(telemetry::GlobalMeterProvider(), nullptr);
  }
};

TEST_F(OneRecordingMetricsTest, ARequestMovesMetricsAndOtlpFromOneRecording) {
  MetricsRegistry registry;
  ServingMetrics metrics(&registry, "m", 64, {.block_size = 16, .num_blocks = 8});
  telemetry::SpanContext span;
  ASSERT_TRUE(telemetry::ParseHex("0af7651916cd43dd8448eb211c80319c", &span.trace_id));
  ASSERT_TRUE(telemetry::ParseHex("b7ad6b7169203331", &span.span_id));
  span.trace_flags = telemetry::kTraceFlagSampled;

  // Three requests with n = 1, 2, 1 and distinct timings.
  const int ns[] = {1, 2, 1};
  double e2e = 0, e2e_per_sequence = 0, ttft = 0, ttft_per_sequence = 0;
  const SteadyTime start = Now();
  for (int i = 0; i < 3; ++i) {
    engine::RequestMetrics m;
    m.arrival = start;
    m.first_scheduled = start + std::chrono::microseconds(1000 + 7 * i);
    m.first_token = start + std::chrono::microseconds(2500 + 31 * i);
    m.last_token = start + std::chrono::microseconds(9000 + 113 * i);
    m.finished = m.last_token;
    m.num_prompt_tokens = 10;
    m.num_computed_prompt_tokens = 10;
    m.num_generation_tokens = 4 * ns[i];
    const GenAiRequest genai{.chat = true, .model = "m", .span = &span};
    ServingMetrics::FinishedRequest finished{
        .metrics = &m, .n = ns[i], .max_tokens = 8, .genai = &genai};
    for (int s = 0; s < ns[i]; ++s) finished.sequence_tokens.push_back(4);
    metrics.RecordFinished(finished);
    e2e += m.e2e_s();
    ttft += m.ttft_s();
    for (int s = 0; s < ns[i]; ++s) {
      e2e_per_sequence += m.e2e_s();
      ttft_per_sequence += m.ttft_s();
    }
  }

  const std::string text = registry.Render({.naming = MetricsNaming::kVllm, .openmetrics = true});
  const telemetry::ResourceMetrics otlp = telemetry::GlobalMeterProvider()->Collect();
  const std::string labels = "{model_name=\"m\",engine=\"0\"}";
  struct Pair {
    const char* vllm;
    const char* otlp;
  };
  for (const Pair& p : {Pair{"e2e_request_latency_seconds", "gen_ai.server.request.duration"},
                        Pair{"time_to_first_token_seconds", "gen_ai.server.time_to_first_token"},
                        Pair{"request_queue_time_seconds", "lantern.request.queue.duration"},
                        Pair{"request_prefill_time_seconds", "lantern.request.prefill.duration"},
                        Pair{"request_decode_time_seconds", "lantern.request.decode.duration"}}) {
    SCOPED_TRACE(p.vllm);
    const OtlpTotals o = Otlp(otlp, p.otlp, span.trace_id);
    EXPECT_EQ(o.count, 3u);                                                         // per request
    EXPECT_EQ(Sample(text, std::string("vllm:") + p.vllm + "_count" + labels), 4);  // per sequence
    EXPECT_TRUE(o.exemplar_of_trace);
    EXPECT_NE(text.find("trace_id=\"0af7651916cd43dd8448eb211c80319c\""), std::string::npos);
  }
  // The same values in both: what one output shows per request, the other per sequence.
  EXPECT_DOUBLE_EQ(Otlp(otlp, "gen_ai.server.request.duration", span.trace_id).sum, e2e);
  EXPECT_DOUBLE_EQ(Sample(text, "vllm:e2e_request_latency_seconds_sum" + labels), e2e_per_sequence);
  EXPECT_DOUBLE_EQ(Otlp(otlp, "gen_ai.server.time_to_first_token", span.trace_id).sum, ttft);
  EXPECT_DOUBLE_EQ(Sample(text, "vllm:time_to_first_token_seconds_sum" + labels),
                   ttft_per_sequence);
}

// One exchange timed once: /metrics' http_request_duration_seconds and OTLP's
// http.server.request.duration hold the very same double. Scrapes and probes are left out
// of vLLM's series only.
TEST_F(OneRecordingMetricsTest, AnHttpExchangeIsTimedOnceForBothOutputs) {
  MetricsRegistry registry;
  Router::ObserverFactory factory = MakeHttpMetricsObserverFactory(&registry);
  HttpRequest request;
  request.method = "POST";
  request.path = request.target = "/v1/completions";
  for (const char* route : {"/v1/completions", "/metrics"}) {
    std::unique_ptr<ExchangeObserver> observer = factory(request, route);
    ASSERT_NE(observer, nullptr);
    observer->OnStatus(200);
    observer->OnEnd(false);
  }
  const std::string text = registry.RenderPrometheus();
  const telemetry::ResourceMetrics otlp = telemetry::GlobalMeterProvider()->Collect();
  uint64_t count = 0;
  double completions_sum = -1;
  for (const auto& scope : otlp.scopes) {
    for (const auto& metric : scope.metrics) {
      if (metric.name != "http.server.request.duration") continue;
      for (const auto& point : metric.points) {
        count += point.count;
        for (const auto& attribute : point.attributes) {
          if (std::string_view(attribute.key) == "http.route" &&
              std::get<std::string>(attribute.value) == "/v1/completions") {
            completions_sum = point.value;
          }
        }
      }
    }
  }
  EXPECT_EQ(count, 2u);
  const std::string series = "{handler=\"/v1/completions\",method=\"POST\"}";
  EXPECT_EQ(Sample(text, "http_request_duration_seconds_count" + series), 1);
  EXPECT_GT(completions_sum, 0);
  // Exactly equal: one measurement, not two timers that happened to agree.
  EXPECT_EQ(Sample(text, "http_request_duration_seconds_sum" + series), completions_sum) << text;
  EXPECT_EQ(text.find("handler=\"/metrics\""), std::string::npos) << text;
}

}  // namespace
}  // namespace lantern::server
