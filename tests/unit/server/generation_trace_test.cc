// The llm_request spans of one generation as the session feeds them: one per prompt under
// the HTTP span, content per sequence (n > 1: a JSON array), spans still open at the end
// closed as failed, and nothing held when tracing is off.
#include "server/generation_trace.h"

#include <gtest/gtest.h>

#include <chrono>

#include "server/generation.h"
#include "span_capture.h"
#include "telemetry/context.h"
#include "telemetry/trace_context.h"

namespace lantern::server {
namespace {

using namespace std::chrono_literals;
using testing::Attr;
using testing::SpanCapture;

GenerationPlan Plan(int prompts, int n) {
  GenerationPlan plan;
  plan.id = "cmpl-x";
  plan.model = "tiny";
  plan.params.n = n;
  plan.arrival = Now();
  for (int i = 0; i < prompts; ++i) {
    plan.prompts.push_back({1, 2, 3});
    plan.prompt_texts.push_back("prompt " + std::to_string(i));
  }
  return plan;
}

engine::RequestOutput Final(const GenerationPlan& plan) {
  engine::RequestOutput out;
  out.finished = true;
  engine::RequestMetrics m;
  m.arrival = plan.arrival;
  m.queue_intervals = {{plan.arrival + 1ms, plan.arrival + 2ms}};
  m.first_scheduled = plan.arrival + 2ms;
  m.first_token = plan.arrival + 3ms;
  m.last_token = plan.arrival + 5ms;
  m.finished = plan.arrival + 5ms;
  out.metrics = m;
  return out;
}

engine::SequenceDelta Delta(int index, const std::string& text) {
  engine::SequenceDelta d;
  d.index = index;
  d.text = text;
  return d;
}

TEST(GenerationTrace, OneSpanPerPromptUnderTheHttpSpan) {
  SpanCapture capture(true);
  GenerationPlan plan = Plan(2, 1);
  telemetry::Context parent;
  parent.span_context =
      *telemetry::ParseTraceParent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  RequestTracingOptions options;
  options.content = true;
  GenerationTrace trace(plan, &parent, 512, options);
  ASSERT_TRUE(trace.active());
  EXPECT_EQ(trace.EngineContext(0), nullptr);  // only with detailed traces
  trace.OnDelta(0, Delta(0, "a"));
  trace.OnDelta(1, Delta(0, "b"));
  trace.OnFinished(0, Final(plan), {"length"});
  trace.OnFinished(1, Final(plan), {"stop"});
  auto spans = capture.named("llm_request");
  ASSERT_EQ(spans.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(spans[i].parent_span_id, parent.span_context.span_id);
    EXPECT_EQ(std::get<std::string>(*Attr(spans[i].attributes, "gen_ai.request.id")),
              "cmpl-x-" + std::to_string(i));
    EXPECT_EQ(std::get<std::string>(*Attr(spans[i].attributes, "gen_ai.prompt")),
              "prompt " + std::to_string(i));
    EXPECT_EQ(std::get<int64_t>(*Attr(spans[i].attributes, "gen_ai.request.max_tokens")), 509);
  }
  EXPECT_EQ(std::get<std::string>(*Attr(spans[0].attributes, "gen_ai.completion")), "a");
  EXPECT_EQ(std::get<std::string>(*Attr(spans[1].attributes, "gen_ai.completion")), "b");
}

TEST(GenerationTrace, SeveralSequencesAndOpenSpansAtTheEnd) {
  SpanCapture capture(true);
  GenerationPlan plan = Plan(1, 2);
  RequestTracingOptions options;
  options.content = true;
  options.detailed = true;
  {
    GenerationTrace trace(plan, nullptr, 512, options);
    EXPECT_NE(trace.EngineContext(0), nullptr);
    trace.OnDelta(0, Delta(0, "x"));
    trace.OnDelta(0, Delta(1, "y"));
    // Never finished: the session went away.
  }
  auto spans = capture.named("llm_request");
  ASSERT_EQ(spans.size(), 1u);
  const auto& s = spans[0];
  EXPECT_EQ(s.parent_span_id, telemetry::SpanId{});
  EXPECT_EQ(s.status_code, telemetry::StatusCode::kError);
  EXPECT_EQ(std::get<std::string>(*Attr(s.attributes, "error.type")), "aborted");
  EXPECT_EQ(
      std::get<std::vector<std::string>>(*Attr(s.attributes, "gen_ai.response.finish_reasons")),
      (std::vector<std::string>{"abort", "abort"}));
  EXPECT_EQ(std::get<std::string>(*Attr(s.attributes, "gen_ai.completion")), "[\"x\",\"y\"]");
}

TEST(GenerationTrace, OffHoldsNothing) {
  ASSERT_EQ(telemetry::GlobalTracerProvider(), nullptr);
  GenerationPlan plan = Plan(1, 1);
  GenerationTrace trace(plan, nullptr, 512, {});
  EXPECT_FALSE(trace.active());
  EXPECT_EQ(trace.EngineContext(0), nullptr);
  trace.OnDelta(0, Delta(0, "x"));
  trace.OnChunkWritten(0);
  trace.OnFinished(0, Final(plan), {"stop"});
}

}  // namespace
}  // namespace lantern::server
