// AttributeKey (literals kept by pointer, everything else copied), the recycled SpanData
// records, and the tracer's shortcut for the built-in samplers.
#include "telemetry/attribute_key.h"

#include <gtest/gtest.h>

#include <sstream>
#include <thread>

#include "in_memory_exporter.h"
#include "telemetry/batch_span_processor.h"
#include "telemetry/ids.h"
#include "telemetry/sampler.h"
#include "telemetry/span_data_pool.h"
#include "telemetry/tracer.h"

namespace lantern::telemetry {
namespace {

constexpr char kStaticKey[] = "gen_ai.request.id";

TEST(AttributeKeyTest, LiteralIsKeptByPointer) {
  AttributeKey key(kStaticKey);
  EXPECT_TRUE(key.is_literal());
  EXPECT_EQ(key.data(), kStaticKey);
  EXPECT_EQ(key.size(), sizeof kStaticKey - 1);
  AttributeKey copy = key;
  EXPECT_EQ(copy.data(), kStaticKey);
}

TEST(AttributeKeyTest, OtherStringsAreCopied) {
  std::string text = "dynamic.key";
  AttributeKey from_string(text);
  AttributeKey from_view{std::string_view(text)};
  AttributeKey from_pointer(text.c_str());
  char buffer[32] = "buffer.key";
  AttributeKey from_buffer(buffer);
  text[0] = 'X';
  buffer[0] = 'X';
  for (const AttributeKey* key : {&from_string, &from_view, &from_pointer}) {
    EXPECT_FALSE(key->is_literal());
    EXPECT_EQ(key->view(), "dynamic.key");
  }
  EXPECT_FALSE(from_buffer.is_literal());
  EXPECT_EQ(from_buffer.view(), "buffer.key");
}

TEST(AttributeKeyTest, CopiesAndMovesOwnTheirText) {
  AttributeKey owned(std::string("owned.key"));
  AttributeKey copy = owned;
  EXPECT_NE(copy.data(), owned.data());
  AttributeKey moved = std::move(owned);
  EXPECT_EQ(moved.view(), "owned.key");
  copy = moved;
  EXPECT_EQ(copy.view(), "owned.key");
  copy = AttributeKey("literal");
  EXPECT_TRUE(copy.is_literal());
  EXPECT_EQ(copy.view(), "literal");
}

TEST(AttributeKeyTest, ComparesWithEveryStringType) {
  AttributeKey key("a.b");
  EXPECT_TRUE(key == "a.b");
  EXPECT_TRUE("a.b" == key);
  EXPECT_TRUE(key == std::string("a.b"));
  EXPECT_TRUE(key == std::string_view("a.b"));
  EXPECT_TRUE(key == AttributeKey(std::string("a.b")));
  EXPECT_FALSE(key == "a.c");
  EXPECT_FALSE(key == "a.bc");
  EXPECT_FALSE(key == AttributeKey());
  std::ostringstream out;
  out << key;
  EXPECT_EQ(out.str(), "a.b");
  std::string joined = "k=";
  joined += key;
  EXPECT_EQ(joined, "k=a.b");
}

TEST(SpanDataPoolTest, RecycledRecordsComeBackCleared) {
  auto span = AcquireSpanData();
  span->trace_id = NewTraceId();
  span->span_id = NewSpanId();
  span->parent_span_id = NewSpanId();
  span->trace_state = "a=b";
  span->flags = 0x301;
  span->name = "name";
  span->kind = SpanKind::kClient;
  span->start_time_unix_nano = 1;
  span->end_time_unix_nano = 2;
  span->attributes.push_back({"k", int64_t{1}});
  span->dropped_attributes_count = 3;
  span->events.emplace_back();
  span->dropped_events_count = 4;
  span->links.emplace_back();
  span->dropped_links_count = 5;
  span->status_code = StatusCode::kError;
  span->status_message = "bad";
  SpanData* raw = span.get();
  RecycleSpanData(std::move(span));
  std::unique_ptr<SpanData> again = AcquireSpanData();
  EXPECT_EQ(again.get(), raw);  // this thread's cache gives back the last one recycled
  const SpanData clean;
  EXPECT_EQ(again->trace_id, clean.trace_id);
  EXPECT_EQ(again->span_id, clean.span_id);
  EXPECT_EQ(again->parent_span_id, clean.parent_span_id);
  EXPECT_EQ(again->trace_state, "");
  EXPECT_EQ(again->flags, 0u);
  EXPECT_EQ(again->name, "");
  EXPECT_EQ(again->kind, clean.kind);
  EXPECT_EQ(again->start_time_unix_nano, 0);
  EXPECT_EQ(again->end_time_unix_nano, 0);
  EXPECT_TRUE(again->attributes.empty());
  EXPECT_GE(again->attributes.capacity(), 1u);  // the buffer is kept
  EXPECT_EQ(again->dropped_attributes_count, 0u);
  EXPECT_TRUE(again->events.empty());
  EXPECT_EQ(again->dropped_events_count, 0u);
  EXPECT_TRUE(again->links.empty());
  EXPECT_EQ(again->dropped_links_count, 0u);
  EXPECT_EQ(again->status_code, StatusCode::kUnset);
  EXPECT_EQ(again->status_message, "");
  EXPECT_EQ(again->resource, nullptr);
  EXPECT_EQ(again->scope, nullptr);
}

TEST(SpanDataPoolTest, ThreadExitReturnsItsCacheToTheReserve) {
  size_t before = SpanDataPoolReserveSize();
  std::thread([] {
    for (int i = 0; i < 10; ++i) RecycleSpanData(std::make_unique<SpanData>());
  }).join();
  EXPECT_GE(SpanDataPoolReserveSize(), std::min<size_t>(before + 10, 2048));
}

// Records recycled by the exporter thread carry nothing of their earlier spans.
TEST(SpanDataPoolTest, SpansOnRecycledRecordsExportOnlyTheirOwnData) {
  auto store = std::make_shared<InMemoryExporter::Store>();
  TracerProviderOptions options;
  options.processors.push_back(std::make_unique<BatchSpanProcessor>(
      std::make_unique<InMemoryExporter>(store), BatchSpanProcessorOptions{}));
  TracerProvider provider(std::move(options));
  Tracer tracer = provider.GetTracer("test");
  constexpr int kSpans = 300;
  for (int i = 0; i < kSpans; ++i) {
    Span span = tracer.StartSpan("full", SpanKind::kServer);
    span.SetAttribute("a", int64_t{i});
    span.SetAttribute(std::string("dynamic"), "value");
    span.SetAttribute("long", "a value longer than the inline buffer of a std::string");
    span.AddEvent("event");
    span.SetStatus(StatusCode::kError, "bad");
  }
  ASSERT_TRUE(provider.ForceFlush(std::chrono::seconds(10)));
  for (int i = 0; i < kSpans; ++i) {
    Span span = tracer.StartSpan("empty");
    if (i % 2 == 0) {
      // Written into a string buffer recycled from an earlier span's value.
      std::string text = "second round value number " + std::to_string(i);
      span.SetAttribute("long", text);
    }
  }
  ASSERT_TRUE(provider.ForceFlush(std::chrono::seconds(10)));
  std::lock_guard<std::mutex> lock(store->mu);
  ASSERT_EQ(store->spans.size(), 2u * kSpans);
  for (int i = 0; i < kSpans; ++i) {
    const SpanData& full = store->spans[i];
    ASSERT_EQ(full.attributes.size(), 3u);
    EXPECT_EQ(std::get<int64_t>(full.attributes[0].value), i);
    EXPECT_EQ(full.attributes[1].key, "dynamic");
    const SpanData& empty = store->spans[kSpans + i];
    EXPECT_EQ(empty.name, "empty");
    if (i % 2 == 0) {
      ASSERT_EQ(empty.attributes.size(), 1u);
      EXPECT_EQ(std::get<std::string>(empty.attributes[0].value),
                "second round value number " + std::to_string(i));
    } else {
      EXPECT_TRUE(empty.attributes.empty());
    }
    EXPECT_TRUE(empty.events.empty());
    EXPECT_EQ(empty.status_code, StatusCode::kUnset);
    EXPECT_EQ(empty.status_message, "");
    EXPECT_EQ(empty.kind, SpanKind::kInternal);
  }
}

TEST(SamplerShortcutTest, BuiltInSamplersHaveRules) {
  using Rule = SamplerShortcut::Rule;
  EXPECT_EQ(ShortcutOf(*MakeAlwaysOnSampler()).root, Rule::kAlwaysOn);
  EXPECT_EQ(ShortcutOf(*MakeAlwaysOffSampler()).root, Rule::kAlwaysOff);
  EXPECT_FALSE(ShortcutOf(*MakeAlwaysOffSampler()).parent_based);
  SamplerShortcut parent_ratio = ShortcutOf(*MakeParentBasedSampler(MakeTraceIdRatioSampler(0.5)));
  EXPECT_TRUE(parent_ratio.parent_based);
  EXPECT_EQ(parent_ratio.root, Rule::kTraceIdRatio);
}

class KeepAllSampler : public Sampler {
 public:
  SamplingResult ShouldSample(const SpanContext&, const TraceId&, std::string_view, SpanKind,
                              const Attributes&) const override {
    return {SamplingDecision::kRecordAndSample, {}, std::nullopt};
  }
  std::string Description() const override { return "KeepAll"; }
};

TEST(SamplerShortcutTest, CustomSamplersAreCalled) {
  EXPECT_EQ(ShortcutOf(KeepAllSampler()).root, SamplerShortcut::Rule::kCustom);
  EXPECT_EQ(ShortcutOf(*MakeParentBasedSampler(std::make_unique<KeepAllSampler>())).root,
            SamplerShortcut::Rule::kCustom);
}

TEST(SamplerShortcutTest, RatioRuleAgreesWithTheSampler) {
  for (double ratio : {0.0, 0.001, 0.25, 0.5, 0.999, 1.0}) {
    std::unique_ptr<Sampler> sampler = MakeTraceIdRatioSampler(ratio);
    SamplerShortcut shortcut = ShortcutOf(*sampler);
    int sampled = 0;
    for (int i = 0; i < 2000; ++i) {
      TraceId id = NewTraceId();
      bool expected = sampler->ShouldSample({}, id, "x", SpanKind::kInternal, {}).decision ==
                      SamplingDecision::kRecordAndSample;
      ASSERT_EQ(TraceIdRatioSampled(id, shortcut.ratio_upper_bound), expected) << ratio;
      sampled += expected;
    }
    if (ratio == 0.0) {
      EXPECT_EQ(sampled, 0);
    }
    if (ratio == 1.0) {
      EXPECT_EQ(sampled, 2000);
    }
  }
}

}  // namespace
}  // namespace lantern::telemetry
