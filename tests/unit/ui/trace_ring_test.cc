// The viewer's ring holds the newest traces within both bounds, whatever the load.
#include "ui/trace_ring.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <memory>
#include <string>

#include "telemetry/ids.h"
#include "telemetry/tracer.h"

namespace lantern::ui {
namespace {

using telemetry::SpanKind;

// A provider whose only processor is the ring, as `lantern serve --ui` without exporters.
struct RingProvider {
  explicit RingProvider(TraceRingOptions options) : ring(std::make_shared<TraceRing>(options)) {
    telemetry::TracerProviderOptions provider_options;
    provider_options.processors.push_back(MakeTraceRingProcessor(ring));
    provider = std::make_unique<telemetry::TracerProvider>(std::move(provider_options));
    tracer = std::make_unique<telemetry::Tracer>(provider->GetTracer("test"));
  }
  // One request trace: the HTTP span, llm_request, queue/prefill/decode.
  telemetry::TraceId Request(int prompt_tokens, const std::string& prompt = "") {
    telemetry::Span http = tracer->StartSpan("POST /v1/completions", SpanKind::kServer);
    http.SetAttribute("http.request.method", "POST");
    http.SetAttribute("http.route", "/v1/completions");
    http.SetAttribute("url.path", "/v1/completions");
    {
      telemetry::Span request =
          tracer->StartSpan("llm_request", SpanKind::kInternal, http.context());
      request.SetAttribute("gen_ai.request.model", "tiny");
      request.SetAttribute("gen_ai.usage.prompt_tokens", int64_t{prompt_tokens});
      request.SetAttribute("gen_ai.usage.completion_tokens", int64_t{3});
      request.SetAttribute("gen_ai.latency.time_to_first_token", 0.25);
      request.SetAttribute("gen_ai.latency.e2e", 0.5);
      request.SetAttribute("lantern.request.preemptions", int64_t{1});
      if (!prompt.empty()) request.SetAttribute("gen_ai.prompt", prompt);
      for (const char* phase : {"queue", "prefill", "decode"}) {
        tracer->StartSpan(phase, SpanKind::kInternal, request.context()).End();
      }
    }
    http.SetAttribute("http.response.status_code", int64_t{200});
    telemetry::TraceId id = http.context().trace_id;
    return id;
  }
  std::shared_ptr<TraceRing> ring;
  std::unique_ptr<telemetry::TracerProvider> provider;
  std::unique_ptr<telemetry::Tracer> tracer;
};

TEST(TraceRingTest, KeepsTheNewestTracesWithinTheCount) {
  RingProvider p({.max_traces = 5, .max_bytes = size_t{1} << 30, .max_step_spans = 8});
  std::vector<telemetry::TraceId> ids;
  for (int i = 0; i < 12; ++i) ids.push_back(p.Request(i + 1));
  TraceRingStats stats = p.ring->stats();
  EXPECT_EQ(stats.traces, 5u);
  EXPECT_EQ(stats.evicted_traces, 7u);
  std::vector<TraceSummary> list = p.ring->Summaries(100);
  ASSERT_EQ(list.size(), 5u);
  // Newest first.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(list[i].trace_id, telemetry::ToHex(ids[11 - i]));
    EXPECT_EQ(list[i].prompt_tokens, 12 - i);
  }
  EXPECT_TRUE(p.ring->Trace(ids[0], nullptr).empty());  // evicted
  EXPECT_EQ(p.ring->Trace(ids[11], nullptr).size(), 5u);
}

TEST(TraceRingTest, SummaryReadsTheSpansAttributes) {
  RingProvider p({});
  p.Request(7);
  std::vector<TraceSummary> list = p.ring->Summaries(1);
  ASSERT_EQ(list.size(), 1u);
  const TraceSummary& s = list[0];
  EXPECT_EQ(s.name, "POST /v1/completions");
  EXPECT_EQ(s.method, "POST");
  EXPECT_EQ(s.route, "/v1/completions");
  EXPECT_EQ(s.status_code, 200);
  EXPECT_EQ(s.model, "tiny");
  EXPECT_EQ(s.requests, 1);
  EXPECT_EQ(s.prompt_tokens, 7);
  EXPECT_EQ(s.completion_tokens, 3);
  ASSERT_TRUE(s.ttft_s.has_value());
  EXPECT_DOUBLE_EQ(*s.ttft_s, 0.25);
  EXPECT_EQ(s.preemptions, 1);
  EXPECT_FALSE(s.error);
  EXPECT_FALSE(s.remote_parent);
  EXPECT_EQ(s.span_count, 5u);
}

TEST(TraceRingTest, BytesBoundHoldsAndMemoryStaysFlatOver10000Traces) {
  const size_t max_bytes = size_t{256} << 10;
  RingProvider p({.max_traces = 100000, .max_bytes = max_bytes, .max_step_spans = 8});
  const std::string prompt(2000, 'x');  // --trace-content: big string attributes
  size_t in_use_after_warmup = 0;
  for (int i = 0; i < 10000; ++i) {
    p.Request(i, prompt);
    const TraceRingStats stats = p.ring->stats();
    ASSERT_LE(stats.bytes, max_bytes) << "after " << i + 1 << " traces";
    if (i == 1999) in_use_after_warmup = mallinfo2().uordblks;
  }
  const TraceRingStats stats = p.ring->stats();
  EXPECT_GT(stats.traces, 10u);
  EXPECT_LT(stats.traces, 200u);
  EXPECT_EQ(stats.traces + stats.evicted_traces, 10000u);
  // The heap in use after 10,000 traces is what it was after 2,000 (within the ring's own
  // budget): nothing accumulates beside the ring.
  const size_t in_use = mallinfo2().uordblks;
  EXPECT_LE(in_use, in_use_after_warmup + max_bytes);
}

TEST(TraceRingTest, StartupTraceStaysWhileRequestsComeAndGo) {
  RingProvider p({.max_traces = 3, .max_bytes = size_t{1} << 30, .max_step_spans = 8});
  telemetry::TraceId startup_id;
  {
    telemetry::Span root = p.tracer->StartSpan("lantern.startup");
    p.tracer->StartSpan("load_weights", SpanKind::kInternal, root.context()).End();
    startup_id = root.context().trace_id;
  }
  for (int i = 0; i < 10; ++i) p.Request(i);
  ASSERT_TRUE(p.ring->startup_trace().has_value());
  EXPECT_EQ(*p.ring->startup_trace(), startup_id);
  EXPECT_EQ(p.ring->Trace(startup_id, nullptr).size(), 2u);
  std::vector<TraceSummary> list = p.ring->Summaries(100);
  ASSERT_EQ(list.size(), 4u);
  EXPECT_TRUE(list.back().startup);
}

TEST(TraceRingTest, EngineStepsAreKeptApartAndFoundByTheirLinks) {
  RingProvider p({.max_traces = 10, .max_bytes = size_t{1} << 30, .max_step_spans = 4});
  telemetry::Span http = p.tracer->StartSpan("POST /v1/completions", SpanKind::kServer);
  telemetry::Span request = p.tracer->StartSpan("llm_request", SpanKind::kInternal, http.context());
  for (int i = 0; i < 6; ++i) {
    telemetry::Span step = p.tracer->StartSpan("engine_step");
    step.AddLink(request.context());
  }
  p.tracer->StartSpan("engine_step").End();  // a step of other requests
  request.End();
  http.End();
  EXPECT_EQ(p.ring->stats().step_spans, 4u);
  EXPECT_EQ(p.ring->Summaries(100).size(), 1u);  // steps are not requests
  std::vector<SpanPtr> steps;
  EXPECT_EQ(p.ring->Trace(http.context().trace_id, &steps).size(), 2u);
  EXPECT_EQ(steps.size(), 3u);  // the newest 4 steps, 3 of them linked
}

TEST(TraceRingTest, TheViewersOwnRequestsAreNotKept) {
  RingProvider p({});
  telemetry::Span http = p.tracer->StartSpan("GET /ui/api/traces", SpanKind::kServer);
  http.SetAttribute("url.path", "/ui/api/traces");
  http.End();
  EXPECT_EQ(p.ring->stats().traces, 0u);
}

}  // namespace
}  // namespace lantern::ui
