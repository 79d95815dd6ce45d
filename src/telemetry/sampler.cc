#include "telemetry/sampler.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

#include "base/log.h"
#include "telemetry/tail_sampling.h"

namespace lantern::telemetry {
namespace {

class AlwaysOnSampler : public Sampler {
 public:
  SamplingResult ShouldSample(const SpanContext&, const TraceId&, std::string_view, SpanKind,
                              const Attributes&) const override {
    return {SamplingDecision::kRecordAndSample, {}, std::nullopt};
  }
  std::string Description() const override { return "AlwaysOnSampler"; }
};

class AlwaysOffSampler : public Sampler {
 public:
  SamplingResult ShouldSample(const SpanContext&, const TraceId&, std::string_view, SpanKind,
                              const Attributes&) const override {
    return {SamplingDecision::kDrop, {}, std::nullopt};
  }
  std::string Description() const override { return "AlwaysOffSampler"; }
};

class TraceIdRatioSampler : public Sampler {
 public:
  explicit TraceIdRatioSampler(double ratio) : ratio_(ratio) {
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    if (ratio <= 0.0) {
      upper_bound_ = std::numeric_limits<int64_t>::min();
    } else if (ratio >= 1.0) {
      upper_bound_ = kMax;
    } else {
      upper_bound_ = static_cast<int64_t>(ratio * static_cast<double>(kMax));
    }
  }

  SamplingResult ShouldSample(const SpanContext&, const TraceId& trace_id, std::string_view,
                              SpanKind, const Attributes&) const override {
    bool sampled = TraceIdRatioSampled(trace_id, upper_bound_);
    return {
        sampled ? SamplingDecision::kRecordAndSample : SamplingDecision::kDrop, {}, std::nullopt};
  }

  int64_t upper_bound() const { return upper_bound_; }

  std::string Description() const override {
    char text[64];
    std::snprintf(text, sizeof text, "TraceIdRatioBased{%.6f}", ratio_);
    return text;
  }

 private:
  double ratio_;
  int64_t upper_bound_;
};

class ParentBasedSampler : public Sampler {
 public:
  explicit ParentBasedSampler(std::unique_ptr<Sampler> root)
      : root_(std::move(root)),
        sampled_parent_(MakeAlwaysOnSampler()),
        unsampled_parent_(MakeAlwaysOffSampler()) {}

  SamplingResult ShouldSample(const SpanContext& parent, const TraceId& trace_id,
                              std::string_view name, SpanKind kind,
                              const Attributes& attributes) const override {
    if (!parent.IsValid()) return root_->ShouldSample(parent, trace_id, name, kind, attributes);
    // Remote and local parents use the same delegates (the defaults of the spec).
    const Sampler& delegate = parent.IsSampled() ? *sampled_parent_ : *unsampled_parent_;
    return delegate.ShouldSample(parent, trace_id, name, kind, attributes);
  }

  const Sampler& root() const { return *root_; }

  std::string Description() const override {
    std::string on = sampled_parent_->Description();
    std::string off = unsampled_parent_->Description();
    return "ParentBased{root:" + root_->Description() + ",remoteParentSampled:" + on +
           ",remoteParentNotSampled:" + off + ",localParentSampled:" + on +
           ",localParentNotSampled:" + off + "}";
  }

 private:
  std::unique_ptr<Sampler> root_;
  std::unique_ptr<Sampler> sampled_parent_;
  std::unique_ptr<Sampler> unsampled_parent_;
};

SamplerShortcut::Rule RuleOf(const Sampler& sampler, int64_t* upper_bound) {
  if (dynamic_cast<const AlwaysOnSampler*>(&sampler) != nullptr) {
    return SamplerShortcut::Rule::kAlwaysOn;
  }
  if (dynamic_cast<const AlwaysOffSampler*>(&sampler) != nullptr) {
    return SamplerShortcut::Rule::kAlwaysOff;
  }
  if (const auto* ratio = dynamic_cast<const TraceIdRatioSampler*>(&sampler)) {
    *upper_bound = ratio->upper_bound();
    return SamplerShortcut::Rule::kTraceIdRatio;
  }
  return SamplerShortcut::Rule::kCustom;
}

// OTEL_TRACES_SAMPLER_ARG for the ratio samplers: a number in [0, 1], default 1.0.
double RatioFromEnv(const EnvLookup& env) {
  std::optional<std::string> arg = EnvString(env, "OTEL_TRACES_SAMPLER_ARG");
  if (!arg) return 1.0;
  std::string text(TrimWhitespace(*arg));
  char* end = nullptr;
  double ratio = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(ratio) || ratio < 0.0 ||
      ratio > 1.0) {
    LANTERN_LOG(kWarning, "telemetry")
        << "OTEL_TRACES_SAMPLER_ARG=\"" << *arg << "\" is not a ratio in [0, 1]; using 1.0";
    return 1.0;
  }
  return ratio;
}

}  // namespace

bool TraceIdRatioSampled(const TraceId& trace_id, int64_t upper_bound) {
  uint64_t bits = 0;
  for (int i = 8; i < 16; ++i) bits = bits << 8 | trace_id[i];
  // |x| of the signed value, where |INT64_MIN| stays INT64_MIN (as Java's Math.abs).
  int64_t value = static_cast<int64_t>(bits);
  int64_t magnitude =
      value == std::numeric_limits<int64_t>::min() ? value : (value < 0 ? -value : value);
  return magnitude < upper_bound;
}

SamplerShortcut ShortcutOf(const Sampler& sampler) {
  SamplerShortcut shortcut;
  const Sampler* root = &sampler;
  // Our ParentBasedSampler's parent delegates are always on / always off.
  if (const auto* parent_based = dynamic_cast<const ParentBasedSampler*>(&sampler)) {
    shortcut.parent_based = true;
    root = &parent_based->root();
  }
  shortcut.root = RuleOf(*root, &shortcut.ratio_upper_bound);
  if (shortcut.root == SamplerShortcut::Rule::kCustom) shortcut.parent_based = false;
  return shortcut;
}

std::unique_ptr<Sampler> MakeAlwaysOnSampler() { return std::make_unique<AlwaysOnSampler>(); }
std::unique_ptr<Sampler> MakeAlwaysOffSampler() { return std::make_unique<AlwaysOffSampler>(); }
std::unique_ptr<Sampler> MakeTraceIdRatioSampler(double ratio) {
  if (!(ratio >= 0.0)) ratio = 0.0;  // also NaN
  if (ratio > 1.0) ratio = 1.0;
  return std::make_unique<TraceIdRatioSampler>(ratio);
}
std::unique_ptr<Sampler> MakeParentBasedSampler(std::unique_ptr<Sampler> root) {
  return std::make_unique<ParentBasedSampler>(std::move(root));
}

std::unique_ptr<Sampler> SamplerFromEnv(const EnvLookup& env) {
  std::optional<std::string> value = EnvString(env, "OTEL_TRACES_SAMPLER");
  std::string name = value ? AsciiLower(TrimWhitespace(*value)) : "parentbased_always_on";
  if (name == "always_on") return MakeAlwaysOnSampler();
  if (name == "always_off") return MakeAlwaysOffSampler();
  if (name == "traceidratio") return MakeTraceIdRatioSampler(RatioFromEnv(env));
  if (name == "parentbased_always_off") return MakeParentBasedSampler(MakeAlwaysOffSampler());
  if (name == "parentbased_traceidratio") {
    return MakeParentBasedSampler(MakeTraceIdRatioSampler(RatioFromEnv(env)));
  }
  if (name == "lantern_tail") {
    std::optional<std::string> arg = EnvString(env, "OTEL_TRACES_SAMPLER_ARG");
    return MakeTailSampler(ParseTailSamplingArg(arg ? *arg : std::string()));
  }
  if (name != "parentbased_always_on") {
    LANTERN_LOG(kWarning, "telemetry")
        << "OTEL_TRACES_SAMPLER=\"" << *value
        << "\" is not a supported sampler (always_on, always_off, traceidratio, "
           "parentbased_always_on, parentbased_always_off, parentbased_traceidratio, "
           "lantern_tail); using "
           "parentbased_always_on";
  }
  return MakeParentBasedSampler(MakeAlwaysOnSampler());
}

}  // namespace lantern::telemetry
