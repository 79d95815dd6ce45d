// llm_request and its children built from engine timestamps: tree, names, kinds, every
// attribute with its type, exact nesting, latency attributes equal to span durations, the
// abort path, detail options, and the unsampled / no-provider paths.
#include "server/request_tracing.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "span_capture.h"
#include "telemetry/sampler.h"
#include "telemetry/trace_context.h"

namespace lantern::server {
namespace {

using namespace std::chrono_literals;
using telemetry::AttributeValue;
using telemetry::SpanData;
using telemetry::SpanKind;
using testing::Attr;
using testing::SpanCapture;

constexpr const char* kParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

double Seconds(int64_t nanos) { return static_cast<double>(nanos) * 1e-9; }
double Duration(const SpanData& s) {
  return Seconds(s.end_time_unix_nano - s.start_time_unix_nano);
}

template <typename T>
T Get(const SpanData& span, const std::string& key) {
  const AttributeValue* value = Attr(span.attributes, key);
  EXPECT_NE(value, nullptr) << key;
  if (value == nullptr) return T{};
  EXPECT_TRUE(std::holds_alternative<T>(*value)) << key << " has another type";
  return std::holds_alternative<T>(*value) ? std::get<T>(*value) : T{};
}

bool HasEvent(const SpanData& span, const std::string& name, int64_t at) {
  for (const auto& e : span.events) {
    if (e.name == name && e.time_unix_nano == at) return true;
  }
  return false;
}

struct Fixture {
  engine::SamplingParams params;
  LlmRequestStart start;
  LlmRequestEnd end;
  SteadyTime t0 = Now();

  Fixture() {
    params.n = 1;
    params.temperature = 0;
    params.top_p = 0.9;
    params.frequency_penalty = 0.5;
    start.request_id = "cmpl-abc-0";
    start.response_id = "cmpl-abc";
    start.model = "tiny";
    start.max_tokens = 16;
    start.params = &params;
    start.arrival = t0;
    auto& m = end.metrics;
    m.arrival = t0;
    // queued, preempted after the first token, queued again, then decoded to the end.
    m.queue_intervals = {{t0 + 1ms, t0 + 3ms}, {t0 + 10ms, t0 + 14ms}};
    m.first_scheduled = t0 + 3ms;
    m.first_token = t0 + 6ms;
    m.last_token = t0 + 20ms;
    m.finished = t0 + 21ms;
    m.num_prompt_tokens = 7;
    m.num_cached_prompt_tokens = 2;
    m.num_computed_prompt_tokens = 5;
    m.num_generation_tokens = 4;
    m.num_preemptions = 1;
    m.num_prefill_chunks = 2;
    m.model_forward_s = 0.008;
    m.model_execute_s = 0.011;
    m.scheduler_s = 0.001;
    end.finish_reasons = {"length"};
  }
};

class RequestTracingTest : public ::testing::Test {
 protected:
  SpanCapture capture_;
  telemetry::Tracer tracer_ = capture_.tracer();
  telemetry::SpanContext parent_ = *telemetry::ParseTraceParent(kParent);

  void Trace(const Fixture& f, const RequestTracingOptions& options = {}) {
    telemetry::Span span = StartLlmRequestSpan(tracer_, parent_, f.start);
    ASSERT_TRUE(span.IsRecording());
    EndLlmRequestSpan(tracer_, span, f.end, options);
  }
};

TEST_F(RequestTracingTest, TreeNamesKindsAndNesting) {
  Fixture f;
  Trace(f);
  auto requests = capture_.named("llm_request");
  ASSERT_EQ(requests.size(), 1u);
  const SpanData& r = requests[0];
  EXPECT_EQ(r.kind, SpanKind::kInternal);
  EXPECT_EQ(r.trace_id, parent_.trace_id);
  EXPECT_EQ(r.parent_span_id, parent_.span_id);
  EXPECT_EQ(r.start_time_unix_nano, ToUnixNanos(f.t0));
  EXPECT_EQ(r.end_time_unix_nano, ToUnixNanos(*f.end.metrics.finished));
  EXPECT_EQ(r.status_code, telemetry::StatusCode::kUnset);

  auto queues = capture_.named("queue");
  ASSERT_EQ(queues.size(), 2u);
  auto prefill = capture_.named("prefill");
  auto decode = capture_.named("decode");
  ASSERT_EQ(prefill.size(), 1u);
  ASSERT_EQ(decode.size(), 1u);
  EXPECT_EQ(capture_.spans().size(), 5u);
  for (const auto* list : {&queues, &prefill, &decode}) {
    for (const SpanData& child : *list) {
      EXPECT_EQ(child.kind, SpanKind::kInternal) << child.name;
      EXPECT_EQ(child.trace_id, r.trace_id) << child.name;
      EXPECT_EQ(child.parent_span_id, r.span_id) << child.name;
      EXPECT_GE(child.start_time_unix_nano, r.start_time_unix_nano) << child.name;
      EXPECT_LE(child.end_time_unix_nano, r.end_time_unix_nano) << child.name;
      EXPECT_LE(child.start_time_unix_nano, child.end_time_unix_nano) << child.name;
    }
  }
  EXPECT_EQ(queues[0].start_time_unix_nano, ToUnixNanos(f.t0 + 1ms));
  EXPECT_EQ(queues[1].end_time_unix_nano, ToUnixNanos(f.t0 + 14ms));
  EXPECT_EQ(prefill[0].start_time_unix_nano, ToUnixNanos(*f.end.metrics.first_scheduled));
  EXPECT_EQ(prefill[0].end_time_unix_nano, ToUnixNanos(*f.end.metrics.first_token));
  EXPECT_EQ(decode[0].start_time_unix_nano, ToUnixNanos(*f.end.metrics.first_token));
  EXPECT_EQ(decode[0].end_time_unix_nano, ToUnixNanos(*f.end.metrics.last_token));
  EXPECT_EQ(Get<int64_t>(prefill[0], "lantern.prefill.computed_tokens"), 5);
  EXPECT_EQ(Get<int64_t>(prefill[0], "lantern.prefill.cached_tokens"), 2);
  EXPECT_EQ(Get<int64_t>(prefill[0], "lantern.prefill.chunks"), 2);
  EXPECT_EQ(Get<int64_t>(decode[0], "lantern.decode.tokens"), 4);

  EXPECT_TRUE(HasEvent(r, "first_token", ToUnixNanos(f.t0 + 6ms)));
  EXPECT_TRUE(HasEvent(r, "preempted", ToUnixNanos(f.t0 + 10ms)));
  EXPECT_TRUE(HasEvent(r, "resumed", ToUnixNanos(f.t0 + 14ms)));
  EXPECT_EQ(r.events.size(), 3u);
}

TEST_F(RequestTracingTest, LatencyAttributesEqualSpanDurations) {
  Fixture f;
  Trace(f);
  const SpanData r = capture_.named("llm_request").at(0);
  auto queues = capture_.named("queue");
  const SpanData prefill = capture_.named("prefill").at(0);
  const SpanData decode = capture_.named("decode").at(0);
  constexpr double kEps = 1e-9;
  EXPECT_NEAR(Get<double>(r, "gen_ai.latency.e2e"), Duration(r), kEps);
  EXPECT_NEAR(Get<double>(r, "gen_ai.latency.time_in_queue"),
              Duration(queues[0]) + Duration(queues[1]), kEps);
  EXPECT_NEAR(Get<double>(r, "gen_ai.latency.time_in_model_prefill"), Duration(prefill), kEps);
  EXPECT_NEAR(Get<double>(r, "gen_ai.latency.time_in_model_decode"), Duration(decode), kEps);
  EXPECT_NEAR(Get<double>(r, "gen_ai.latency.time_in_model_inference"),
              Duration(prefill) + Duration(decode), kEps);
  EXPECT_NEAR(Get<double>(r, "gen_ai.latency.time_to_first_token"),
              Seconds(prefill.end_time_unix_nano - r.start_time_unix_nano), kEps);
  EXPECT_DOUBLE_EQ(Get<double>(r, "gen_ai.latency.time_in_scheduler"), 0.001);
}

TEST_F(RequestTracingTest, EveryAttributeWithItsType) {
  Fixture f;
  f.params.top_k = 40;
  f.params.seed = 7;
  f.params.stop = {"\n", "END"};
  f.start.chat = true;
  f.start.stream = true;
  f.end.first_chunk = f.t0 + 7ms;
  Trace(f);
  const SpanData r = capture_.named("llm_request").at(0);
  EXPECT_EQ(Get<std::string>(r, "gen_ai.request.id"), "cmpl-abc-0");
  EXPECT_EQ(Get<std::string>(r, "gen_ai.response.id"), "cmpl-abc");
  EXPECT_EQ(Get<std::string>(r, "gen_ai.request.model"), "tiny");
  EXPECT_EQ(Get<std::string>(r, "gen_ai.response.model"), "tiny");
  EXPECT_EQ(Get<std::string>(r, "gen_ai.operation.name"), "chat");
  EXPECT_EQ(Get<std::string>(r, "gen_ai.provider.name"), "lantern");
  EXPECT_EQ(Get<int64_t>(r, "gen_ai.request.max_tokens"), 16);
  EXPECT_EQ(Get<double>(r, "gen_ai.request.temperature"), 0.0);  // kept at 0
  EXPECT_EQ(Get<double>(r, "gen_ai.request.top_p"), 0.9);
  EXPECT_EQ(Get<int64_t>(r, "gen_ai.request.n"), 1);
  EXPECT_EQ(Get<int64_t>(r, "gen_ai.request.choice.count"), 1);
  EXPECT_EQ(Get<int64_t>(r, "gen_ai.request.top_k"), 40);
  EXPECT_EQ(Get<double>(r, "gen_ai.request.frequency_penalty"), 0.5);
  EXPECT_EQ(Get<double>(r, "gen_ai.request.presence_penalty"), 0.0);
  EXPECT_EQ(Get<int64_t>(r, "gen_ai.request.seed"), 7);
  EXPECT_EQ(Get<std::vector<std::string>>(r, "gen_ai.request.stop_sequences"),
            (std::vector<std::string>{"\n", "END"}));
  EXPECT_EQ(Get<bool>(r, "gen_ai.request.stream"), true);
  EXPECT_EQ(Get<int64_t>(r, "gen_ai.usage.prompt_tokens"), 7);
  EXPECT_EQ(Get<int64_t>(r, "gen_ai.usage.completion_tokens"), 4);
  EXPECT_EQ(Get<int64_t>(r, "gen_ai.usage.input_tokens"), 7);
  EXPECT_EQ(Get<int64_t>(r, "gen_ai.usage.output_tokens"), 4);
  EXPECT_EQ(Get<int64_t>(r, "gen_ai.usage.cache_read.input_tokens"), 2);
  EXPECT_EQ(Get<int64_t>(r, "gen_ai.usage.num_sequences"), 1);
  EXPECT_EQ(Get<std::vector<std::string>>(r, "gen_ai.response.finish_reasons"),
            std::vector<std::string>{"length"});
  EXPECT_NEAR(Get<double>(r, "gen_ai.response.time_to_first_chunk"), 0.007, 1e-9);
  EXPECT_EQ(Get<int64_t>(r, "lantern.request.preemptions"), 1);
  // Off by default: detail, content, errors.
  for (const char* key : {"gen_ai.latency.time_in_model_forward",
                          "gen_ai.latency.time_in_model_execute", "gen_ai.prompt",
                          "gen_ai.completion", "error.type"}) {
    EXPECT_EQ(Attr(r.attributes, key), nullptr) << key;
  }
}

TEST_F(RequestTracingTest, OptionalRequestAttributesAbsentWhenUnset) {
  Fixture f;
  Trace(f);
  const SpanData r = capture_.named("llm_request").at(0);
  EXPECT_EQ(Get<std::string>(r, "gen_ai.operation.name"), "text_completion");
  for (const char* key : {"gen_ai.request.top_k", "gen_ai.request.seed",
                          "gen_ai.request.stop_sequences", "gen_ai.response.time_to_first_chunk"}) {
    EXPECT_EQ(Attr(r.attributes, key), nullptr) << key;
  }
}

TEST_F(RequestTracingTest, GuidedRequestsSayTheirOutputTypeAndGrammar) {
  Fixture f;
  auto text = [](const telemetry::Attributes& a, const char* key) {
    const auto* v = Attr(a, key);
    return v ? std::get<std::string>(*v) : std::string("<absent>");
  };
  EXPECT_EQ(text(LlmRequestStartAttributes(f.start), "gen_ai.output.type"), "text");
  EXPECT_EQ(text(LlmRequestStartAttributes(f.start), "lantern.grammar.kind"), "<absent>");
  auto vocab = grammar::Vocabulary::Create({"a", "{", "}", "\"", ":", "1"});
  f.params.grammar = *grammar::CompileJsonObject(vocab);
  EXPECT_EQ(text(LlmRequestStartAttributes(f.start), "gen_ai.output.type"), "json");
  EXPECT_EQ(text(LlmRequestStartAttributes(f.start), "lantern.grammar.kind"), "json_object");
  f.params.grammar = *grammar::CompileChoice({"a", "1"}, vocab);
  EXPECT_EQ(text(LlmRequestStartAttributes(f.start), "gen_ai.output.type"), "text");
  EXPECT_EQ(text(LlmRequestStartAttributes(f.start), "lantern.grammar.kind"), "choice");
}

TEST_F(RequestTracingTest, SamplerSeesStartAttributes) {
  Fixture f;
  telemetry::Attributes a = LlmRequestStartAttributes(f.start);
  for (const char* key : {"gen_ai.request.model", "gen_ai.operation.name",
                          "gen_ai.request.temperature", "gen_ai.request.max_tokens",
                          "gen_ai.request.stream"}) {
    EXPECT_NE(Attr(a, key), nullptr) << key;
  }
}

TEST_F(RequestTracingTest, DetailedTokenEventsAndContent) {
  Fixture f;
  for (int i = 0; i < 4; ++i) {
    f.end.tokens.push_back({f.t0 + 6ms + std::chrono::milliseconds(i * 4), 100 + i, 0});
  }
  f.end.prompt = "Hello";
  f.end.completion = " world";
  RequestTracingOptions options;
  options.detailed = true;
  options.token_events = true;
  options.content = true;
  options.max_token_events = 3;
  Trace(f, options);
  const SpanData r = capture_.named("llm_request").at(0);
  EXPECT_DOUBLE_EQ(Get<double>(r, "gen_ai.latency.time_in_model_forward"), 0.008);
  EXPECT_DOUBLE_EQ(Get<double>(r, "gen_ai.latency.time_in_model_execute"), 0.011);
  EXPECT_EQ(Get<std::string>(r, "gen_ai.prompt"), "Hello");
  EXPECT_EQ(Get<std::string>(r, "gen_ai.completion"), " world");
  const SpanData decode = capture_.named("decode").at(0);
  ASSERT_EQ(decode.events.size(), 3u);  // capped
  EXPECT_EQ(decode.events[0].name, "token");
  EXPECT_EQ(decode.events[0].time_unix_nano, ToUnixNanos(f.t0 + 6ms));
  EXPECT_EQ(std::get<int64_t>(*Attr(decode.events[1].attributes, "lantern.token.id")), 101);
  for (const auto& e : decode.events) {
    EXPECT_GE(e.time_unix_nano, decode.start_time_unix_nano);
    EXPECT_LE(e.time_unix_nano, decode.end_time_unix_nano);
  }
}

TEST_F(RequestTracingTest, AbortedWhileQueuedIsAnError) {
  Fixture f;
  auto& m = f.end.metrics;
  m.queue_intervals = {{f.t0 + 1ms, f.t0 + 5ms}};
  m.first_scheduled.reset();
  m.first_token.reset();
  m.last_token.reset();
  m.finished = f.t0 + 5ms;
  m.num_generation_tokens = 0;
  f.end.finish_reasons = {"abort"};
  f.end.error_type = "aborted";
  Trace(f);
  const SpanData r = capture_.named("llm_request").at(0);
  EXPECT_EQ(r.status_code, telemetry::StatusCode::kError);
  EXPECT_EQ(Get<std::string>(r, "error.type"), "aborted");
  EXPECT_EQ(Get<std::vector<std::string>>(r, "gen_ai.response.finish_reasons"),
            std::vector<std::string>{"abort"});
  EXPECT_TRUE(HasEvent(r, "aborted", ToUnixNanos(f.t0 + 5ms)));
  EXPECT_EQ(capture_.named("queue").size(), 1u);
  EXPECT_TRUE(capture_.named("prefill").empty());
  EXPECT_TRUE(capture_.named("decode").empty());
  EXPECT_EQ(Get<double>(r, "gen_ai.latency.time_in_model_inference"), 0.0);
  EXPECT_NEAR(Get<double>(r, "gen_ai.latency.time_in_queue"), 0.004, 1e-9);
}

TEST_F(RequestTracingTest, AbortedDuringPrefillEndsPrefillAtTheAbort) {
  Fixture f;
  auto& m = f.end.metrics;
  m.queue_intervals = {{f.t0 + 1ms, f.t0 + 3ms}};
  m.first_token.reset();
  m.last_token.reset();
  m.finished = f.t0 + 4ms;
  f.end.error_type = "aborted";
  Trace(f);
  const SpanData prefill = capture_.named("prefill").at(0);
  EXPECT_EQ(prefill.end_time_unix_nano, ToUnixNanos(f.t0 + 4ms));
  EXPECT_TRUE(capture_.named("decode").empty());
}

TEST_F(RequestTracingTest, OneTokenHasNoDecodeSpan) {
  Fixture f;
  f.end.metrics.last_token = f.end.metrics.first_token;
  Trace(f);
  EXPECT_TRUE(capture_.named("decode").empty());
  EXPECT_EQ(Get<double>(capture_.named("llm_request").at(0), "gen_ai.latency.time_in_model_decode"),
            0.0);
}

TEST(RequestTracingSampling, UnsampledBuildsNothing) {
  SpanCapture capture(false, telemetry::MakeAlwaysOffSampler());
  Fixture f;
  telemetry::Span span = StartLlmRequestSpan(capture.tracer(), {}, f.start);
  EXPECT_FALSE(span.IsRecording());
  EXPECT_TRUE(span.context().IsValid());
  EndLlmRequestSpan(capture.tracer(), span, f.end, {});
  EXPECT_TRUE(capture.spans().empty());
}

TEST(RequestTracingSampling, NoProviderBuildsNothing) {
  ASSERT_EQ(telemetry::GlobalTracerProvider(), nullptr);
  Fixture f;
  telemetry::Tracer tracer = telemetry::tracer("test");
  telemetry::Span span = StartLlmRequestSpan(tracer, {}, f.start);
  EXPECT_FALSE(span.IsRecording());
  EndLlmRequestSpan(tracer, span, f.end, {});
}

}  // namespace
}  // namespace lantern::server
