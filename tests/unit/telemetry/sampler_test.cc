#include "telemetry/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <map>

#include "telemetry/ids.h"
#include "test_env.h"

namespace lantern::telemetry {
namespace {

// A trace id whose lower 8 bytes are `low` (big-endian), upper bytes arbitrary.
TraceId WithLowBits(uint64_t low) {
  TraceId id{};
  id[0] = 0x42;
  for (int i = 0; i < 8; ++i) id[15 - i] = static_cast<uint8_t>(low >> (8 * i));
  return id;
}

bool Sampled(const Sampler& s, const TraceId& id, const SpanContext& parent = {}) {
  return s.ShouldSample(parent, id, "x", SpanKind::kInternal, {}).decision ==
         SamplingDecision::kRecordAndSample;
}

SpanContext Parent(bool sampled, bool remote) {
  SpanContext p;
  p.trace_id = NewTraceId();
  p.span_id = NewSpanId();
  p.trace_flags = sampled ? kTraceFlagSampled : 0;
  p.is_remote = remote;
  return p;
}

TEST(Sampler, DescriptionsMatchTheReferenceSdks) {
  EXPECT_EQ(MakeAlwaysOnSampler()->Description(), "AlwaysOnSampler");
  EXPECT_EQ(MakeAlwaysOffSampler()->Description(), "AlwaysOffSampler");
  EXPECT_EQ(MakeTraceIdRatioSampler(0.5)->Description(), "TraceIdRatioBased{0.500000}");
  EXPECT_EQ(MakeTraceIdRatioSampler(0.0001)->Description(), "TraceIdRatioBased{0.000100}");
  EXPECT_EQ(MakeParentBasedSampler(MakeAlwaysOnSampler())->Description(),
            "ParentBased{root:AlwaysOnSampler,remoteParentSampled:AlwaysOnSampler,"
            "remoteParentNotSampled:AlwaysOffSampler,localParentSampled:AlwaysOnSampler,"
            "localParentNotSampled:AlwaysOffSampler}");
}

TEST(Sampler, TraceIdRatioBoundaryFollowsJavaSemantics) {
  // ratio 0.5: bound = (long)(0.5 * Long.MAX_VALUE) = 2^62; sampled iff |low| < 2^62.
  auto s = MakeTraceIdRatioSampler(0.5);
  EXPECT_TRUE(Sampled(*s, WithLowBits(0)));
  EXPECT_TRUE(Sampled(*s, WithLowBits(0x3fffffffffffffffULL)));
  EXPECT_FALSE(Sampled(*s, WithLowBits(0x4000000000000000ULL)));
  EXPECT_FALSE(Sampled(*s, WithLowBits(0x7fffffffffffffffULL)));
  // Negative values compare by magnitude: -(2^62 - 1) is sampled, -2^62 is not.
  EXPECT_TRUE(Sampled(*s, WithLowBits(0xc000000000000001ULL)));
  EXPECT_FALSE(Sampled(*s, WithLowBits(0xc000000000000000ULL)));
  // Long.MIN_VALUE stays negative under Math.abs: always below a positive bound.
  EXPECT_TRUE(Sampled(*s, WithLowBits(0x8000000000000000ULL)));
  // The upper 8 bytes never matter.
  TraceId id = WithLowBits(0x4000000000000000ULL);
  id[0] = 0;
  EXPECT_FALSE(Sampled(*s, id));
}

TEST(Sampler, RatioZeroAndOne) {
  auto none = MakeTraceIdRatioSampler(0.0);
  auto all = MakeTraceIdRatioSampler(1.0);
  EXPECT_FALSE(Sampled(*none, WithLowBits(0)));
  EXPECT_FALSE(Sampled(*none, WithLowBits(0x8000000000000000ULL)));
  EXPECT_TRUE(Sampled(*all, WithLowBits(0x7ffffffffffffffeULL)));
  EXPECT_EQ(MakeTraceIdRatioSampler(7)->Description(), "TraceIdRatioBased{1.000000}");
  EXPECT_EQ(MakeTraceIdRatioSampler(-1)->Description(), "TraceIdRatioBased{0.000000}");
}

TEST(Sampler, RatioIsRespectedStatistically) {
  for (double ratio : {0.01, 0.25, 0.5, 0.9}) {
    auto s = MakeTraceIdRatioSampler(ratio);
    constexpr int kDraws = 40000;
    int sampled = 0;
    for (int i = 0; i < kDraws; ++i) sampled += Sampled(*s, NewTraceId());
    double sd = std::sqrt(kDraws * ratio * (1 - ratio));
    EXPECT_NEAR(sampled, kDraws * ratio, 6 * sd) << "ratio " << ratio;
  }
}

TEST(Sampler, ParentBasedFollowsTheParent) {
  auto s = MakeParentBasedSampler(MakeAlwaysOffSampler());
  TraceId id = NewTraceId();
  EXPECT_FALSE(Sampled(*s, id));  // root: the root sampler
  for (bool remote : {false, true}) {
    EXPECT_TRUE(Sampled(*s, id, Parent(true, remote)));
    EXPECT_FALSE(Sampled(*s, id, Parent(false, remote)));
  }
  auto on = MakeParentBasedSampler(MakeAlwaysOnSampler());
  EXPECT_TRUE(Sampled(*on, id));
  EXPECT_FALSE(Sampled(*on, id, Parent(false, true)));
}

TEST(Sampler, FromEnvironment) {
  auto desc = [](std::map<std::string, std::string> vars) {
    return SamplerFromEnv(MapEnv(std::move(vars)))->Description();
  };
  const std::string kDefault = MakeParentBasedSampler(MakeAlwaysOnSampler())->Description();
  EXPECT_EQ(desc({}), kDefault);
  EXPECT_EQ(desc({{"OTEL_TRACES_SAMPLER", ""}}), kDefault);
  EXPECT_EQ(desc({{"OTEL_TRACES_SAMPLER", "always_on"}}), "AlwaysOnSampler");
  EXPECT_EQ(desc({{"OTEL_TRACES_SAMPLER", "always_off"}}), "AlwaysOffSampler");
  EXPECT_EQ(desc({{"OTEL_TRACES_SAMPLER", "traceidratio"}, {"OTEL_TRACES_SAMPLER_ARG", "0.25"}}),
            "TraceIdRatioBased{0.250000}");
  EXPECT_EQ(desc({{"OTEL_TRACES_SAMPLER", "traceidratio"}}), "TraceIdRatioBased{1.000000}");
  // A bad argument warns and falls back to 1.0.
  EXPECT_EQ(desc({{"OTEL_TRACES_SAMPLER", "traceidratio"}, {"OTEL_TRACES_SAMPLER_ARG", "1.5"}}),
            "TraceIdRatioBased{1.000000}");
  EXPECT_EQ(desc({{"OTEL_TRACES_SAMPLER", "traceidratio"}, {"OTEL_TRACES_SAMPLER_ARG", "abc"}}),
            "TraceIdRatioBased{1.000000}");
  EXPECT_EQ(desc({{"OTEL_TRACES_SAMPLER", "parentbased_traceidratio"},
                  {"OTEL_TRACES_SAMPLER_ARG", "0.1"}}),
            MakeParentBasedSampler(MakeTraceIdRatioSampler(0.1))->Description());
  EXPECT_EQ(desc({{"OTEL_TRACES_SAMPLER", "parentbased_always_off"}}),
            MakeParentBasedSampler(MakeAlwaysOffSampler())->Description());
  // Unknown samplers warn and fall back to the default.
  EXPECT_EQ(desc({{"OTEL_TRACES_SAMPLER", "jaeger_remote"}}), kDefault);
}

}  // namespace
}  // namespace lantern::telemetry
