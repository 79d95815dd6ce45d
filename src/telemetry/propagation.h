// Injecting a Context into, and extracting it from, carriers such as HTTP headers:
// W3C tracecontext and baggage propagators, chosen by OTEL_PROPAGATORS.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "telemetry/context.h"
#include "telemetry/env.h"

namespace lantern::telemetry {

// A set of headers. Keys are compared case-insensitively by the carrier (HTTP rules).
class TextMapCarrier {
 public:
  virtual ~TextMapCarrier() = default;
  virtual std::optional<std::string_view> Get(std::string_view key) const = 0;
  virtual void Set(std::string_view key, std::string_view value) = 0;
};

// A carrier over a map with lower-cased keys; handy for tests and for the environment.
class MapCarrier : public TextMapCarrier {
 public:
  std::optional<std::string_view> Get(std::string_view key) const override;
  void Set(std::string_view key, std::string_view value) override;
  const std::map<std::string, std::string>& headers() const { return headers_; }

 private:
  std::map<std::string, std::string> headers_;
};

class TextMapPropagator {
 public:
  virtual ~TextMapPropagator() = default;
  virtual void Inject(const Context& context, TextMapCarrier& carrier) const = 0;
  // Returns `context` with what the carrier holds; fields it cannot read are left as they
  // were in `context`.
  virtual Context Extract(const TextMapCarrier& carrier, Context context) const = 0;
  // The header names it reads and writes.
  virtual std::vector<std::string> Fields() const = 0;
};

// traceparent + tracestate. Extract keeps tracestate only with a valid traceparent and
// drops an invalid tracestate whole.
std::unique_ptr<TextMapPropagator> MakeTraceContextPropagator();
// baggage.
std::unique_ptr<TextMapPropagator> MakeBaggagePropagator();
// Runs each in order (extract: later ones see earlier results).
std::unique_ptr<TextMapPropagator> MakeCompositePropagator(
    std::vector<std::unique_ptr<TextMapPropagator>> propagators);

// From OTEL_PROPAGATORS (comma-separated; default "tracecontext,baggage"; "none" for
// none). Unknown names (b3, jaeger, ... which we do not implement) warn and are skipped.
std::unique_ptr<TextMapPropagator> PropagatorFromEnv(const EnvLookup& env);

// The process-wide propagator (tracecontext,baggage until Init sets it from the
// environment). Never destroyed.
const TextMapPropagator& GlobalPropagator();
void SetGlobalPropagator(std::unique_ptr<TextMapPropagator> propagator);

// The context a batch job or a child process inherits: TRACEPARENT, TRACESTATE and
// BAGGAGE environment variables, read with the W3C rules.
Context ExtractFromEnvironment(const EnvLookup& env = ProcessEnv());

}  // namespace lantern::telemetry
