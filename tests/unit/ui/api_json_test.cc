// The viewer's API documents: the request list with its filters, one trace as OTLP/JSON,
// and the metrics snapshot read from the Prometheus text of /metrics.
#include "ui/api_json.h"

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "server/metrics.h"
#include "telemetry/ids.h"
#include "telemetry/tracer.h"

namespace lantern::ui {
namespace {

using nlohmann::json;
using telemetry::SpanKind;

class ApiJsonTest : public ::testing::Test {
 protected:
  ApiJsonTest() : ring_(std::make_shared<TraceRing>(TraceRingOptions{})) {
    telemetry::TracerProviderOptions options;
    options.processors.push_back(MakeTraceRingProcessor(ring_));
    provider_ = std::make_unique<telemetry::TracerProvider>(std::move(options));
  }
  std::string Request(const std::string& route, int64_t status, int64_t prompt_tokens,
                      bool aborted = false) {
    telemetry::Tracer tracer = provider_->GetTracer("test");
    telemetry::Span http = tracer.StartSpan("POST " + route, SpanKind::kServer);
    http.SetAttribute("http.request.method", "POST");
    http.SetAttribute("http.route", route);
    http.SetAttribute("url.path", route);
    http.SetAttribute("http.response.status_code", status);
    telemetry::Span request = tracer.StartSpan("llm_request", SpanKind::kInternal, http.context());
    request.SetAttribute("gen_ai.request.model", "tiny <b>");
    request.SetAttribute("gen_ai.usage.prompt_tokens", prompt_tokens);
    request.SetAttribute("gen_ai.usage.completion_tokens", int64_t{2});
    request.SetAttribute("gen_ai.latency.time_to_first_token", 0.125);
    if (aborted) {
      request.SetAttribute("error.type", "aborted");
      request.SetStatus(telemetry::StatusCode::kError, "aborted");
    }
    request.End();
    http.End();
    return telemetry::ToHex(http.context().trace_id);
  }

  std::shared_ptr<TraceRing> ring_;
  std::unique_ptr<telemetry::TracerProvider> provider_;
};

TEST_F(ApiJsonTest, ListsNewestFirstWithTheSummaryFields) {
  std::string first = Request("/v1/completions", 200, 5);
  std::string second = Request("/v1/chat/completions", 200, 9);
  json list = json::parse(TracesJson(*ring_, ParseTraceFilter("")));
  ASSERT_EQ(list["traces"].size(), 2u);
  EXPECT_EQ(list["traces"][0]["trace_id"], second);
  EXPECT_EQ(list["traces"][1]["trace_id"], first);
  const json& t = list["traces"][0];
  EXPECT_EQ(t["method"], "POST");
  EXPECT_EQ(t["route"], "/v1/chat/completions");
  EXPECT_EQ(t["status_code"], 200);
  EXPECT_EQ(t["model"], "tiny <b>");  // as text: the page renders it with textContent
  EXPECT_EQ(t["prompt_tokens"], 9);
  EXPECT_EQ(t["completion_tokens"], 2);
  EXPECT_DOUBLE_EQ(t["ttft_s"].get<double>(), 0.125);
  EXPECT_EQ(t["span_count"], 2);
  EXPECT_EQ(list["stats"]["traces"], 2);
  EXPECT_EQ(list["seq"], 4);  // four spans kept
}

TEST_F(ApiJsonTest, FiltersByRouteStatusLatencyAndTraceId) {
  std::string ok = Request("/v1/completions", 200, 1);
  std::string bad = Request("/v1/completions", 400, 1);
  std::string aborted = Request("/v1/chat/completions", 200, 1, true);
  auto ids = [this](std::string_view query) {
    std::vector<std::string> out;
    const json list = json::parse(TracesJson(*ring_, ParseTraceFilter(query)));
    for (const json& t : list["traces"]) out.push_back(t["trace_id"]);
    return out;
  };
  EXPECT_EQ(ids("route=%2Fv1%2Fcompletions"), (std::vector<std::string>{bad, ok}));
  EXPECT_EQ(ids("status=4xx"), (std::vector<std::string>{bad}));
  EXPECT_EQ(ids("status=error"), (std::vector<std::string>{aborted}));
  EXPECT_EQ(ids("q=" + ok.substr(5, 12)), (std::vector<std::string>{ok}));
  EXPECT_EQ(ids("min_ms=100000").size(), 0u);
  EXPECT_EQ(ids("limit=1"), (std::vector<std::string>{aborted}));
}

TEST_F(ApiJsonTest, UnchangedSinceTheLastSeq) {
  Request("/v1/completions", 200, 1);
  json first = json::parse(TracesJson(*ring_, ParseTraceFilter("")));
  const uint64_t seq = first["seq"];
  json again = json::parse(TracesJson(*ring_, ParseTraceFilter("since=" + std::to_string(seq))));
  EXPECT_EQ(again["unchanged"], true);
  EXPECT_FALSE(again.contains("traces"));
  Request("/v1/completions", 200, 1);
  json changed = json::parse(TracesJson(*ring_, ParseTraceFilter("since=" + std::to_string(seq))));
  EXPECT_EQ(changed["traces"].size(), 2u);
}

TEST_F(ApiJsonTest, OneTraceAsOtlpJson) {
  std::string id = Request("/v1/completions", 200, 3);
  std::optional<std::string> otlp = TraceOtlpJson(*ring_, id);
  ASSERT_TRUE(otlp.has_value());
  json doc = json::parse(*otlp);
  const json& spans = doc["resourceSpans"][0]["scopeSpans"][0]["spans"];
  ASSERT_EQ(spans.size(), 2u);
  for (const json& span : spans) EXPECT_EQ(span["traceId"], id);
  EXPECT_FALSE(TraceOtlpJson(*ring_, std::string(32, '0')).has_value());
  EXPECT_FALSE(TraceOtlpJson(*ring_, "not hex").has_value());
}

TEST(MetricsSnapshotTest, SumsSeriesAndKeepsHistogramBuckets) {
  server::MetricsRegistry registry;
  registry.AddCounter("lantern:generation_tokens_total", "tokens", {{"model_name", "a"}})
      ->Increment(5);
  registry.AddGauge("lantern:num_requests_running", "running", {{"model_name", "a"}})->Set(2);
  server::Histogram* ttft = registry.AddHistogram("lantern:time_to_first_token_seconds", "ttft",
                                                  {{"model_name", "a"}}, {0.1, 1.0});
  ttft->Observe(0.05);
  ttft->Observe(0.5);
  ttft->Observe(5);
  registry.AddCounter("other_total", "not ours", {})->Increment(1);
  json snapshot = json::parse(MetricsSnapshotJson(registry.RenderPrometheus(), 1234));
  EXPECT_EQ(snapshot["time_unix_ms"], 1234);
  const json& m = snapshot["metrics"];
  EXPECT_FALSE(m.contains("other_total"));
  EXPECT_EQ(m["lantern:generation_tokens_total"]["type"], "counter");
  EXPECT_EQ(m["lantern:generation_tokens_total"]["value"], 5.0);
  EXPECT_EQ(m["lantern:num_requests_running"]["value"], 2.0);
  const json& h = m["lantern:time_to_first_token_seconds"];
  EXPECT_EQ(h["type"], "histogram");
  EXPECT_EQ(h["count"], 3.0);
  EXPECT_DOUBLE_EQ(h["sum"].get<double>(), 5.55);
  ASSERT_EQ(h["buckets"].size(), 3u);
  EXPECT_EQ(h["buckets"][0], json::array({0.1, 1.0}));
  EXPECT_EQ(h["buckets"][1], json::array({1.0, 2.0}));
  EXPECT_EQ(h["buckets"][2], json::array({nullptr, 3.0}));
}

}  // namespace
}  // namespace lantern::ui
