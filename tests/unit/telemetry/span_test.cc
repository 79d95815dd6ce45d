// The span API over a real provider with a SimpleSpanProcessor and an in-memory exporter.
#include "telemetry/span.h"

#include <gtest/gtest.h>

#include "in_memory_exporter.h"
#include "telemetry/health.h"
#include "telemetry/tracer.h"

namespace lantern::telemetry {
namespace {

class SpanTest : public ::testing::Test {
 protected:
  void Build(SpanLimits limits = {}, std::unique_ptr<Sampler> sampler = nullptr) {
    TracerProviderOptions options;
    options.limits = limits;
    options.sampler = std::move(sampler);
    options.resource.attributes.push_back({"service.name", std::string("test")});
    options.processors.push_back(
        std::make_unique<SimpleSpanProcessor>(std::make_unique<InMemoryExporter>(store_)));
    provider_ = std::make_unique<TracerProvider>(std::move(options));
  }
  const SpanData& Only() {
    EXPECT_EQ(store_->spans.size(), 1u);
    return store_->spans.at(0);
  }

  std::shared_ptr<InMemoryExporter::Store> store_ = std::make_shared<InMemoryExporter::Store>();
  std::unique_ptr<TracerProvider> provider_;
};

const AttributeValue* Find(const Attributes& attributes, std::string_view key) {
  for (const Attribute& a : attributes)
    if (a.key == key) return &a.value;
  return nullptr;
}

TEST_F(SpanTest, RecordsEverythingSet) {
  Build();
  Tracer tracer = provider_->GetTracer("engine", "1.2");
  Span span =
      tracer.StartSpan("llm_request", SpanKind::kServer, {}, {}, {{"at.start", int64_t{7}}});
  ASSERT_TRUE(span.IsRecording());
  span.SetAttribute("s", "text");
  span.SetAttribute("b", true);
  span.SetAttribute("i", 42);
  span.SetAttribute("d", 0.5);
  span.SetAttribute("sa", std::vector<std::string>{"a", "b"});
  span.SetAttribute("ba", std::vector<bool>{true, false});
  span.SetAttribute("ia", std::vector<int64_t>{1, 2});
  span.SetAttribute("da", std::vector<double>{1.5});
  span.AddEvent("first_token", Timestamp::FromUnixNanos(1500), {{"n", int64_t{1}}});
  span.SetStatus(StatusCode::kError, "boom");
  span.UpdateName("renamed");
  span.End(Timestamp::FromUnixNanos(2000));
  EXPECT_FALSE(span.IsRecording());

  const SpanData& d = Only();
  EXPECT_EQ(d.name, "renamed");
  EXPECT_EQ(d.kind, SpanKind::kServer);
  EXPECT_EQ(d.end_time_unix_nano, 2000);
  EXPECT_EQ(d.trace_id, span.context().trace_id);
  EXPECT_EQ(d.span_id, span.context().span_id);
  EXPECT_FALSE(IsValid(d.parent_span_id));
  EXPECT_EQ(d.flags, kTraceFlagSampled | kSpanFlagsHasIsRemote);
  EXPECT_EQ(std::get<int64_t>(*Find(d.attributes, "at.start")), 7);
  EXPECT_EQ(std::get<std::string>(*Find(d.attributes, "s")), "text");
  EXPECT_EQ(std::get<bool>(*Find(d.attributes, "b")), true);
  EXPECT_EQ(std::get<int64_t>(*Find(d.attributes, "i")), 42);
  EXPECT_EQ(std::get<double>(*Find(d.attributes, "d")), 0.5);
  EXPECT_EQ(std::get<std::vector<std::string>>(*Find(d.attributes, "sa")).size(), 2u);
  EXPECT_EQ(std::get<std::vector<bool>>(*Find(d.attributes, "ba")).size(), 2u);
  EXPECT_EQ(std::get<std::vector<int64_t>>(*Find(d.attributes, "ia"))[1], 2);
  EXPECT_EQ(std::get<std::vector<double>>(*Find(d.attributes, "da"))[0], 1.5);
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0].time_unix_nano, 1500);
  EXPECT_EQ(d.status_code, StatusCode::kError);
  EXPECT_EQ(d.status_message, "boom");
  ASSERT_NE(d.scope, nullptr);
  EXPECT_EQ(d.scope->name, "engine");
  EXPECT_EQ(d.scope->version, "1.2");
  ASSERT_NE(d.resource, nullptr);
  EXPECT_EQ(d.resource->attributes.at(0).key, "service.name");
}

TEST_F(SpanTest, ExplicitSteadyTimesUseTheProcessClockOffset) {
  Build();
  SteadyTime start = Now();
  SteadyTime end = start + std::chrono::milliseconds(250);
  Span span = provider_->GetTracer("t").StartSpan("s", SpanKind::kInternal, {}, start);
  span.End(end);
  const SpanData& d = Only();
  EXPECT_EQ(d.start_time_unix_nano, ToUnixNanos(start));
  EXPECT_EQ(d.end_time_unix_nano - d.start_time_unix_nano, 250'000'000);
}

TEST_F(SpanTest, ChildrenShareTheTraceAndPointAtTheParent) {
  Build();
  Tracer tracer = provider_->GetTracer("t");
  Span parent = tracer.StartSpan("parent");
  Span child = tracer.StartSpan("child", SpanKind::kInternal, parent.context());
  EXPECT_EQ(child.context().trace_id, parent.context().trace_id);
  EXPECT_NE(child.context().span_id, parent.context().span_id);
  child.End();
  parent.End();
  ASSERT_EQ(store_->spans.size(), 2u);
  EXPECT_EQ(store_->spans[0].parent_span_id, parent.context().span_id);
}

TEST_F(SpanTest, RemoteParentKeepsTraceStateAndSetsRemoteFlag) {
  Build();
  SpanContext remote;
  remote.trace_id = NewTraceId();
  remote.span_id = NewSpanId();
  remote.trace_flags = kTraceFlagSampled;
  remote.is_remote = true;
  remote.trace_state = "vendor=x";
  Span span = provider_->GetTracer("t").StartSpan("server", SpanKind::kServer, remote);
  EXPECT_EQ(span.context().trace_state, "vendor=x");
  EXPECT_FALSE(span.context().is_remote);
  span.End();
  EXPECT_EQ(Only().flags, kTraceFlagSampled | kSpanFlagsHasIsRemote | kSpanFlagsIsRemote);
  EXPECT_EQ(Only().trace_state, "vendor=x");
}

TEST_F(SpanTest, UnsampledSpansDoNotRecordButPropagate) {
  Build({}, MakeParentBasedSampler(MakeAlwaysOffSampler()));
  Span root = provider_->GetTracer("t").StartSpan("root");
  EXPECT_FALSE(root.IsRecording());
  EXPECT_TRUE(root.context().IsValid());
  EXPECT_FALSE(root.context().IsSampled());
  Span child = provider_->GetTracer("t").StartSpan("child", SpanKind::kInternal, root.context());
  EXPECT_EQ(child.context().trace_id, root.context().trace_id);
  child.SetAttribute("ignored", 1);
  child.End();
  root.End();
  EXPECT_TRUE(store_->spans.empty());
}

TEST_F(SpanTest, SettingAnExistingKeyReplacesItsValue) {
  Build();
  Span span = provider_->GetTracer("t").StartSpan("s");
  span.SetAttribute("k", 1);
  span.SetAttribute("k", "two");
  span.End();
  ASSERT_EQ(Only().attributes.size(), 1u);
  EXPECT_EQ(std::get<std::string>(Only().attributes[0].value), "two");
}

TEST_F(SpanTest, LimitsDropAndCount) {
  SpanLimits limits;
  limits.attribute_count = 2;
  limits.event_count = 1;
  limits.link_count = 1;
  limits.event_attribute_count = 1;
  limits.link_attribute_count = 0;
  limits.attribute_value_length = 3;
  Build(limits);
  SpanContext other{NewTraceId(), NewSpanId(), kTraceFlagSampled, false, ""};
  StartSpanOptions options;
  options.attributes = {{"a", std::string("abcdef")}, {"b", int64_t{1}}, {"c", int64_t{2}}};
  options.links = {{other.trace_id, other.span_id, "", 1, {{"x", true}}, 0}};
  Span span = provider_->GetTracer("t").StartSpan("s", std::move(options));
  span.SetAttribute("b", 5);  // replacing is allowed at the limit
  span.SetAttribute("d", 3);  // a new key is dropped
  span.SetAttribute("a", std::vector<std::string>{"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", "xy"});
  span.AddEvent("e1", {}, {{"p", int64_t{1}}, {"q", int64_t{2}}});
  span.AddEvent("e2");
  span.AddLink(other);
  span.End();
  const SpanData& d = Only();
  EXPECT_EQ(d.attributes.size(), 2u);
  EXPECT_EQ(d.dropped_attributes_count, 2u);  // "c" at start, "d" later
  // Truncated to 3 characters, not bytes: UTF-8 sequences stay whole.
  auto strings = std::get<std::vector<std::string>>(*Find(d.attributes, "a"));
  EXPECT_EQ(strings[0], "\xc3\xa9\xc3\xa9\xc3\xa9");
  EXPECT_EQ(strings[1], "xy");
  EXPECT_EQ(std::get<int64_t>(*Find(d.attributes, "b")), 5);
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.dropped_events_count, 1u);
  EXPECT_EQ(d.events[0].attributes.size(), 1u);
  EXPECT_EQ(d.events[0].dropped_attributes_count, 1u);
  ASSERT_EQ(d.links.size(), 1u);
  EXPECT_EQ(d.dropped_links_count, 1u);
  EXPECT_EQ(d.links[0].attributes.size(), 0u);
  EXPECT_EQ(d.links[0].dropped_attributes_count, 1u);
}

TEST_F(SpanTest, StartAttributesAreTruncated) {
  SpanLimits limits;
  limits.attribute_value_length = 2;
  Build(limits);
  provider_->GetTracer("t")
      .StartSpan("s", SpanKind::kInternal, {}, {}, {{"a", std::string("abc")}})
      .End();
  EXPECT_EQ(std::get<std::string>(Only().attributes[0].value), "ab");
}

TEST_F(SpanTest, StatusRules) {
  Build();
  Span span = provider_->GetTracer("t").StartSpan("s");
  span.SetStatus(StatusCode::kError, "first");
  span.SetStatus(StatusCode::kUnset);  // ignored
  span.SetStatus(StatusCode::kOk, "ignored for OK");
  span.SetStatus(StatusCode::kError, "too late: OK is final");
  span.End();
  EXPECT_EQ(Only().status_code, StatusCode::kOk);
  EXPECT_EQ(Only().status_message, "");
}

TEST_F(SpanTest, EndIsOnceAndDestructorEnds) {
  Build();
  {
    Span span = provider_->GetTracer("t").StartSpan("s");
    span.End(Timestamp::FromUnixNanos(5));
    span.End(Timestamp::FromUnixNanos(6));
    span.SetAttribute("after", 1);
  }
  EXPECT_EQ(Only().end_time_unix_nano, 5);
  { Span dropped = provider_->GetTracer("t").StartSpan("implicit"); }
  EXPECT_EQ(store_->spans.size(), 2u);
}

TEST_F(SpanTest, ShutDownProviderHandsOutNonRecordingSpans) {
  Build();
  EXPECT_TRUE(provider_->Shutdown(std::chrono::seconds(1)));
  EXPECT_TRUE(provider_->Shutdown(std::chrono::seconds(1)));  // idempotent
  Span span = provider_->GetTracer("t").StartSpan("s");
  EXPECT_FALSE(span.IsRecording());
}

TEST_F(SpanTest, HealthCountersCountRecordingSpans) {
  Build();
  TelemetryHealth before = ReadHealth();
  provider_->GetTracer("t").StartSpan("s").End();
  TelemetryHealth after = ReadHealth();
  EXPECT_EQ(after.spans_started - before.spans_started, 1u);
  EXPECT_EQ(after.spans_ended - before.spans_ended, 1u);
  EXPECT_EQ(after.spans_exported - before.spans_exported, 1u);
}

TEST(GlobalTracer, IsANoOpUntilAProviderIsInstalled) {
  ASSERT_EQ(GlobalTracerProvider(), nullptr);
  Tracer t = tracer("engine");
  EXPECT_FALSE(t.Enabled());
  SpanContext parent{NewTraceId(), NewSpanId(), kTraceFlagSampled, true, "a=1"};
  Span span = t.StartSpan("s", SpanKind::kInternal, parent);
  EXPECT_FALSE(span.IsRecording());
  // The API without an SDK passes the parent's context through.
  EXPECT_EQ(span.context().span_id, parent.span_id);

  auto store = std::make_shared<InMemoryExporter::Store>();
  TracerProviderOptions options;
  options.processors.push_back(
      std::make_unique<SimpleSpanProcessor>(std::make_unique<InMemoryExporter>(store)));
  TracerProvider* installed =
      SetGlobalTracerProvider(std::make_unique<TracerProvider>(std::move(options)));
  EXPECT_TRUE(t.Enabled());  // a tracer taken earlier follows the global provider
  t.StartSpan("now recorded").End();
  installed->Shutdown(std::chrono::seconds(1));
  SetGlobalTracerProvider(nullptr);
  ASSERT_EQ(store->spans.size(), 1u);
  EXPECT_EQ(store->spans[0].scope->name, "engine");
}

}  // namespace
}  // namespace lantern::telemetry
