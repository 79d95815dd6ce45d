// engine_step spans: a root per step with the batch's shape and timings, and one link per
// traced request in the batch, carrying its request id.
#include "server/step_tracing.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include "span_capture.h"
#include "telemetry/tail_sampling.h"
#include "telemetry/trace_context.h"

namespace lantern::server {
namespace {

using namespace std::chrono_literals;
using testing::Attr;
using testing::SpanCapture;

TEST(StepTracing, RootSpanWithShapeAndLinks) {
  SpanCapture capture;
  engine::StepStats step;
  step.step = 42;
  step.start = Now();
  step.end = step.start + 5ms;
  step.num_prefill_tokens = 30;
  step.num_decode_tokens = 3;
  step.num_prefill_seqs = 1;
  step.num_decode_seqs = 3;
  step.num_running = 4;
  step.num_waiting = 2;
  step.kv_blocks_used = 10;
  step.kv_blocks_total = 100;
  step.schedule_s = 0.001;
  step.forward_s = 0.003;
  step.sample_s = 0.001;
  auto context = std::make_shared<EngineTraceContext>(EngineTraceContext{
      *telemetry::ParseTraceParent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
      false});
  const telemetry::SpanContext* linked = &context->span;
  step.request_ids = {"cmpl-a-0", "cmpl-b-0"};
  step.trace_contexts = {context, nullptr};  // the second request is not traced
  RecordEngineStepSpan(capture.tracer(), step);

  auto spans = capture.named("engine_step");
  ASSERT_EQ(spans.size(), 1u);
  const auto& s = spans[0];
  EXPECT_EQ(s.parent_span_id, telemetry::SpanId{});
  EXPECT_NE(s.trace_id, linked->trace_id);
  EXPECT_EQ(s.kind, telemetry::SpanKind::kInternal);
  EXPECT_EQ(s.start_time_unix_nano, ToUnixNanos(step.start));
  EXPECT_EQ(s.end_time_unix_nano, ToUnixNanos(step.end));
  auto num = [&](const char* key) { return std::get<int64_t>(*Attr(s.attributes, key)); };
  EXPECT_EQ(num("lantern.step.id"), 42);
  EXPECT_EQ(num("lantern.step.prefill_tokens"), 30);
  EXPECT_EQ(num("lantern.step.decode_tokens"), 3);
  EXPECT_EQ(num("lantern.step.prefill_seqs"), 1);
  EXPECT_EQ(num("lantern.step.decode_seqs"), 3);
  EXPECT_EQ(num("lantern.step.preempted"), 0);
  EXPECT_EQ(num("lantern.step.running"), 4);
  EXPECT_EQ(num("lantern.step.waiting"), 2);
  EXPECT_EQ(num("lantern.step.kv_blocks_used"), 10);
  EXPECT_EQ(num("lantern.step.kv_blocks_total"), 100);
  EXPECT_DOUBLE_EQ(std::get<double>(*Attr(s.attributes, "lantern.step.schedule_s")), 0.001);
  EXPECT_DOUBLE_EQ(std::get<double>(*Attr(s.attributes, "lantern.step.forward_s")), 0.003);
  EXPECT_DOUBLE_EQ(std::get<double>(*Attr(s.attributes, "lantern.step.sample_s")), 0.001);
  ASSERT_EQ(s.links.size(), 1u);
  EXPECT_EQ(s.links[0].trace_id, linked->trace_id);
  EXPECT_EQ(s.links[0].span_id, linked->span_id);
  EXPECT_EQ(std::get<std::string>(*Attr(s.links[0].attributes, "gen_ai.request.id")), "cmpl-a-0");
}

// Without --collect-detailed-traces only steps of requests raised by the detail header
// (those with a context) record, and such a step asks the tail sampler to keep it.
TEST(StepTracing, PerRequestDetailRecordsOnlyStepsWithAContext) {
  SpanCapture capture;
  engine::StepStats step;
  step.start = Now();
  step.end = step.start + 1ms;
  step.request_ids = {"cmpl-a-0"};
  step.trace_contexts = {nullptr};
  RecordEngineStepSpan(capture.tracer(), step, /*every_step=*/false);
  EXPECT_TRUE(capture.named("engine_step").empty());
  auto context = std::make_shared<EngineTraceContext>(EngineTraceContext{
      *telemetry::ParseTraceParent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
      true});
  step.trace_contexts = {context};
  RecordEngineStepSpan(capture.tracer(), step, /*every_step=*/false);
  auto spans = capture.named("engine_step");
  ASSERT_EQ(spans.size(), 1u);
  ASSERT_NE(Attr(spans[0].attributes, telemetry::kForceKeepAttribute), nullptr);
  EXPECT_EQ(std::get<int64_t>(*Attr(spans[0].attributes, telemetry::kForceKeepAttribute)), 1);
}

TEST(StepTracing, NothingWithoutProvider) {
  ASSERT_EQ(telemetry::GlobalTracerProvider(), nullptr);
  engine::StepStats step;
  MakeEngineStepTracer()(step);  // must not crash or record
}

}  // namespace
}  // namespace lantern::server
