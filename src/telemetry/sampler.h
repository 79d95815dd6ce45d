// Head samplers of the OpenTelemetry specification, and OTEL_TRACES_SAMPLER parsing.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "telemetry/env.h"
#include "telemetry/span_context.h"

namespace lantern::telemetry {

enum class SamplingDecision { kDrop, kRecordOnly, kRecordAndSample };

struct SamplingResult {
  SamplingDecision decision = SamplingDecision::kDrop;
  // Attributes the sampler adds to the span (none for the built-in samplers).
  Attributes attributes;
  // The tracestate for the new span; nullopt keeps the parent's.
  std::optional<std::string> trace_state;
};

class Sampler {
 public:
  virtual ~Sampler() = default;
  // `parent` is invalid for a root span. `attributes` are those given at span start.
  virtual SamplingResult ShouldSample(const SpanContext& parent, const TraceId& trace_id,
                                      std::string_view name, SpanKind kind,
                                      const Attributes& attributes) const = 0;
  // As the reference SDKs write it: "AlwaysOnSampler", "TraceIdRatioBased{0.500000}", ...
  virtual std::string Description() const = 0;
};

std::unique_ptr<Sampler> MakeAlwaysOnSampler();
std::unique_ptr<Sampler> MakeAlwaysOffSampler();
// Samples when the trace id's lower 8 bytes (big-endian, sign-folded) fall below
// ratio * 2^63, the algorithm of opentelemetry-java, so services agree on a trace.
// `ratio` is clamped to [0, 1].
std::unique_ptr<Sampler> MakeTraceIdRatioSampler(double ratio);
// Follows the parent's sampled flag; roots go to `root`.
std::unique_ptr<Sampler> MakeParentBasedSampler(std::unique_ptr<Sampler> root);

// The rule of a built-in sampler, so that the tracer decides without virtual calls or a
// SamplingResult (the unsampled span's cost is mostly this). kCustom: call ShouldSample.
struct SamplerShortcut {
  enum class Rule : uint8_t { kCustom, kAlwaysOn, kAlwaysOff, kTraceIdRatio };
  Rule root = Rule::kCustom;
  // A valid parent decides (its sampled flag) before `root` does.
  bool parent_based = false;
  int64_t ratio_upper_bound = 0;  // kTraceIdRatio
};
SamplerShortcut ShortcutOf(const Sampler& sampler);
// The decision of TraceIdRatioSampler with this bound.
bool TraceIdRatioSampled(const TraceId& trace_id, int64_t upper_bound);

// From OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG. The default is
// parentbased_always_on; an unknown sampler or a bad ratio warns and falls back (to the
// default sampler, or to ratio 1.0).
std::unique_ptr<Sampler> SamplerFromEnv(const EnvLookup& env);

}  // namespace lantern::telemetry
