// Tracers and the tracer provider. "Tracers like loggers": any module gets its tracer by
// name, telemetry::tracer("engine"), from one global provider; while none is installed
// (tracing off) tracers hand out non-recording spans at the cost of a branch.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string_view>
#include <vector>

#include "telemetry/sampler.h"
#include "telemetry/span.h"
#include "telemetry/span_limits.h"
#include "telemetry/span_processor.h"

namespace lantern::telemetry {

struct StartSpanOptions {
  SpanKind kind = SpanKind::kInternal;
  // The parent; invalid (the default) starts a new trace. Pass the server-extracted
  // Context's span_context, or another span's context().
  SpanContext parent;
  Attributes attributes;  // given to the sampler too
  std::vector<SpanLink> links;
  Timestamp start_time;  // default: now
};

class Tracer {
 public:
  // Never null inside: always a valid scope. Cheap to copy.
  Span StartSpan(std::string_view name, StartSpanOptions options) const;
  // The common cases without building options (GCC 12 warns about designated
  // initializers that leave members out, so `{.kind = ...}` is not an option under -Werror).
  // (Separate overloads rather than default arguments: no empty options, parent context
  // or attribute list is built and destroyed per span.)
  Span StartSpan(std::string_view name) const;
  Span StartSpan(std::string_view name, SpanKind kind) const;
  Span StartSpan(std::string_view name, SpanKind kind, const SpanContext& parent,
                 Timestamp start_time = {}, Attributes attributes = {}) const;
  // True when spans from this tracer may record (a provider is installed and running).
  bool Enabled() const;
  const InstrumentationScope& scope() const { return *scope_; }

 private:
  friend class TracerProvider;
  friend Tracer tracer(std::string_view, std::string_view);
  Tracer(const TracerProvider* provider, const InstrumentationScope* scope)
      : provider_(provider), scope_(scope) {}
  // The body of both StartSpan overloads; `attributes` and `links` may be null (none).
  Span Start(std::string_view name, SpanKind kind, const SpanContext& parent, Timestamp start_time,
             Attributes* attributes, std::vector<SpanLink>* links) const;
  Span StartRecording(const TracerProvider& provider, std::string_view name, SpanKind kind,
                      const SpanContext& parent, SpanContext&& context, Timestamp start_time,
                      Attributes* attributes, Attributes* sampler_attributes,
                      std::vector<SpanLink>* links) const;

  const TracerProvider* provider_;  // null: whatever provider is global at StartSpan
  const InstrumentationScope* scope_;
};

struct TracerProviderOptions {
  std::unique_ptr<Sampler> sampler;  // default: parentbased_always_on
  SpanLimits limits;
  Resource resource;  // default: empty (see resource.h for the detected one)
  std::vector<std::unique_ptr<SpanProcessor>> processors;
};

class TracerProvider {
 public:
  explicit TracerProvider(TracerProviderOptions options);
  // Shuts down (5 s deadline) if not done. Spans of this provider must have ended; the
  // SpanData it exported keep pointing at its resource, which is never freed.
  ~TracerProvider();
  TracerProvider(const TracerProvider&) = delete;
  TracerProvider& operator=(const TracerProvider&) = delete;

  // The provider must outlive the tracer and its spans.
  Tracer GetTracer(std::string_view name, std::string_view version = {}) const;

  bool ForceFlush(std::chrono::microseconds timeout);
  // Flushes and stops the processors; later spans do not record. Idempotent.
  bool Shutdown(std::chrono::microseconds timeout);
  bool is_shut_down() const { return shut_down_.load(std::memory_order_relaxed); }

  const Sampler& sampler() const { return *sampler_; }
  const SpanLimits& limits() const { return limits_; }
  const Resource& resource() const { return *resource_; }

  // Called by Span::End.
  void OnEnd(std::unique_ptr<SpanData> span) const;

 private:
  friend class Tracer;
  std::unique_ptr<Sampler> sampler_;
  SamplerShortcut sampler_shortcut_;  // sampler_'s rule, when it is a built-in one
  SpanLimits limits_;
  const Resource* resource_;  // kept for the process's life: exported spans point at it
  std::vector<std::unique_ptr<SpanProcessor>> processors_;
  std::atomic<bool> shut_down_{false};
};

// The tracer named `name` of the global provider. Cheap; may be kept in a static.
Tracer tracer(std::string_view name, std::string_view version = {});

// Installs `provider` as the global one (null turns tracing off). The previous provider is
// neither shut down nor freed (spans in flight may still use it): shut it down first.
// Returns the installed provider.
TracerProvider* SetGlobalTracerProvider(std::unique_ptr<TracerProvider> provider);
TracerProvider* GlobalTracerProvider();

}  // namespace lantern::telemetry
