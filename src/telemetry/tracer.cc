#include "telemetry/tracer.h"

#include <mutex>
#include <string>

#include "telemetry/health.h"
#include "telemetry/span_data_pool.h"

namespace lantern::telemetry {
namespace {

std::atomic<TracerProvider*> g_provider{nullptr};

// Scopes are interned and never freed, so tracers are two pointers and exported spans can
// point at their scope without reference counting.
const InstrumentationScope* InternScope(std::string_view name, std::string_view version) {
  static std::mutex* mu = new std::mutex();
  static auto* scopes = new std::vector<const InstrumentationScope*>();
  std::lock_guard<std::mutex> lock(*mu);
  for (const InstrumentationScope* scope : *scopes) {
    if (scope->name == name && scope->version == version) return scope;
  }
  auto* scope = new InstrumentationScope{std::string(name), std::string(version)};
  scopes->push_back(scope);
  return scope;
}

// A shared_ptr that does not own (no reference counting): for objects never freed.
template <typename T>
std::shared_ptr<const T> Unowned(const T* object) {
  return std::shared_ptr<const T>(std::shared_ptr<const T>(), object);
}

}  // namespace

uint32_t SpanFlagsFor(uint8_t trace_flags, bool parent_is_remote) {
  return trace_flags | kSpanFlagsHasIsRemote | (parent_is_remote ? kSpanFlagsIsRemote : 0u);
}

Span Tracer::StartSpan(std::string_view name, StartSpanOptions options) const {
  return Start(name, options.kind, options.parent, options.start_time, &options.attributes,
               &options.links);
}

namespace {
const SpanContext kNoParent;
}  // namespace

Span Tracer::StartSpan(std::string_view name) const {
  return Start(name, SpanKind::kInternal, kNoParent, {}, nullptr, nullptr);
}

Span Tracer::StartSpan(std::string_view name, SpanKind kind) const {
  return Start(name, kind, kNoParent, {}, nullptr, nullptr);
}

Span Tracer::StartSpan(std::string_view name, SpanKind kind, const SpanContext& parent,
                       Timestamp start_time, Attributes attributes) const {
  return Start(name, kind, parent, start_time, &attributes, nullptr);
}

Span Tracer::Start(std::string_view name, SpanKind kind, const SpanContext& parent,
                   Timestamp start_time, Attributes* attributes,
                   std::vector<SpanLink>* links) const {
  const TracerProvider* provider =
      provider_ != nullptr ? provider_ : g_provider.load(std::memory_order_acquire);
  const bool has_parent = parent.IsValid();
  if (provider == nullptr || provider->is_shut_down()) {
    // Tracing off: the parent's context flows through unchanged (no copy for a root).
    if (!has_parent) return Span();
    return Span(SpanContext(parent));
  }
  SpanContext context;
  if (has_parent) {
    context.trace_id = parent.trace_id;
    context.span_id = NewSpanId();
  } else {
    NewTraceAndSpanId(&context.trace_id, &context.span_id);
  }
  const SamplerShortcut& shortcut = provider->sampler_shortcut_;
  if (shortcut.root != SamplerShortcut::Rule::kCustom) {
    // A built-in sampler: decided here, without building a SamplingResult.
    bool sampled;
    if (shortcut.parent_based && has_parent) {
      sampled = parent.IsSampled();
    } else if (shortcut.root == SamplerShortcut::Rule::kTraceIdRatio) {
      sampled = TraceIdRatioSampled(context.trace_id, shortcut.ratio_upper_bound);
    } else {
      sampled = shortcut.root == SamplerShortcut::Rule::kAlwaysOn;
    }
    if (has_parent) context.trace_state = parent.trace_state;
    if (!sampled) return Span(std::move(context));
    context.trace_flags = kTraceFlagSampled;
    return StartRecording(*provider, name, kind, parent, std::move(context), start_time, attributes,
                          nullptr, links);
  }
  static const Attributes kNoAttributes;
  SamplingResult result = provider->sampler_->ShouldSample(
      parent, context.trace_id, name, kind, attributes != nullptr ? *attributes : kNoAttributes);
  context.trace_flags =
      result.decision == SamplingDecision::kRecordAndSample ? kTraceFlagSampled : 0;
  context.trace_state = result.trace_state ? std::move(*result.trace_state) : parent.trace_state;
  if (result.decision == SamplingDecision::kDrop) return Span(std::move(context));
  return StartRecording(*provider, name, kind, parent, std::move(context), start_time, attributes,
                        &result.attributes, links);
}

Span Tracer::StartRecording(const TracerProvider& provider, std::string_view name, SpanKind kind,
                            const SpanContext& parent, SpanContext&& context, Timestamp start_time,
                            Attributes* attributes, Attributes* sampler_attributes,
                            std::vector<SpanLink>* links) const {
  const bool has_parent = parent.IsValid();
  const SpanLimits& limits = provider.limits_;
  std::unique_ptr<SpanData> data = AcquireSpanData();
  data->trace_id = context.trace_id;
  data->span_id = context.span_id;
  if (has_parent) data->parent_span_id = parent.span_id;
  data->trace_state.assign(context.trace_state);
  data->flags = SpanFlagsFor(context.trace_flags, has_parent && parent.is_remote);
  data->name.assign(name);
  data->kind = kind;
  data->start_time_unix_nano = start_time.UnixNanosOrNow();
  if (attributes != nullptr && !attributes->empty()) {
    // Keep the recycled record's buffer when the given attributes fit in it.
    if (data->attributes.capacity() >= attributes->size()) {
      for (Attribute& a : *attributes) data->attributes.push_back(std::move(a));
    } else {
      data->attributes = std::move(*attributes);
    }
  }
  if (sampler_attributes != nullptr) {
    for (Attribute& a : *sampler_attributes) data->attributes.push_back(std::move(a));
  }
  if (!data->attributes.empty()) {
    ApplyAttributeLimits(data->attributes, &data->dropped_attributes_count, limits.attribute_count,
                         limits.attribute_value_length);
    for (const Attribute& a : data->attributes) {
      data->attribute_key_filter |= AttributeKeyFilterBit(a.key);
    }
  }
  data->resource = Unowned(provider.resource_);
  data->scope = Unowned(scope_);
  RecordSpanStarted();
  Span span(std::move(data), &provider, std::move(context));
  if (links != nullptr) {
    for (SpanLink& link : *links) {
      SpanContext linked{link.trace_id, link.span_id, static_cast<uint8_t>(link.flags & 0xff),
                         (link.flags & kSpanFlagsIsRemote) != 0, std::move(link.trace_state)};
      span.AddLink(linked, std::move(link.attributes));
    }
  }
  return span;
}

bool Tracer::Enabled() const {
  const TracerProvider* provider =
      provider_ != nullptr ? provider_ : g_provider.load(std::memory_order_acquire);
  return provider != nullptr && !provider->is_shut_down();
}

namespace {

// Exported spans point at their provider's resource, which must outlive the provider; it is
// kept here for the life of the process, reachable (leak checkers see it as kept, not lost).
const Resource* KeepForever(Resource resource) {
  static std::mutex mu;
  static auto* kept = new std::vector<std::unique_ptr<Resource>>();
  auto owned = std::make_unique<Resource>(std::move(resource));
  const Resource* raw = owned.get();
  std::lock_guard lock(mu);
  kept->push_back(std::move(owned));
  return raw;
}

}  // namespace

TracerProvider::TracerProvider(TracerProviderOptions options)
    : sampler_(options.sampler ? std::move(options.sampler)
                               : MakeParentBasedSampler(MakeAlwaysOnSampler())),
      sampler_shortcut_(ShortcutOf(*sampler_)),
      limits_(options.limits),
      resource_(KeepForever(std::move(options.resource))),
      processors_(std::move(options.processors)) {}

TracerProvider::~TracerProvider() { Shutdown(std::chrono::seconds(5)); }

Tracer TracerProvider::GetTracer(std::string_view name, std::string_view version) const {
  return Tracer(this, InternScope(name, version));
}

void TracerProvider::OnEnd(std::unique_ptr<SpanData> span) const {
  if (processors_.empty()) return;
  for (size_t i = 0; i + 1 < processors_.size(); ++i) {
    std::unique_ptr<SpanData> copy = AcquireSpanData();
    *copy = *span;
    processors_[i]->OnEnd(std::move(copy));
  }
  processors_.back()->OnEnd(std::move(span));
}

bool TracerProvider::ForceFlush(std::chrono::microseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool ok = true;
  for (auto& p : processors_) {
    auto left = std::chrono::duration_cast<std::chrono::microseconds>(
        deadline - std::chrono::steady_clock::now());
    ok = p->ForceFlush(std::max(left, std::chrono::microseconds(0))) && ok;
  }
  return ok;
}

bool TracerProvider::Shutdown(std::chrono::microseconds timeout) {
  if (shut_down_.exchange(true)) return true;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool ok = true;
  for (auto& p : processors_) {
    auto left = std::chrono::duration_cast<std::chrono::microseconds>(
        deadline - std::chrono::steady_clock::now());
    ok = p->Shutdown(std::max(left, std::chrono::microseconds(0))) && ok;
  }
  return ok;
}

Tracer tracer(std::string_view name, std::string_view version) {
  return Tracer(nullptr, InternScope(name, version));
}

TracerProvider* SetGlobalTracerProvider(std::unique_ptr<TracerProvider> provider) {
  // Replaced providers are never freed (spans in flight may still use them) but stay
  // reachable from here, so leak checkers see them as kept, not lost.
  static std::mutex retired_mu;
  static auto* retired = new std::vector<std::unique_ptr<TracerProvider>>();
  TracerProvider* raw = provider.get();
  {
    std::lock_guard lock(retired_mu);
    retired->push_back(std::move(provider));
  }
  g_provider.store(raw, std::memory_order_release);
  return raw;
}

TracerProvider* GlobalTracerProvider() { return g_provider.load(std::memory_order_acquire); }

}  // namespace lantern::telemetry
