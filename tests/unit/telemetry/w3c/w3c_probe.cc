// Reads JSON lines {"traceparent":..,"tracestate":..,"baggage":..} on stdin, extracts them
// with Lantern's propagators, and writes what it understood (and what it would inject) as
// JSON lines, for w3c_reference_test.js to compare with the OpenTelemetry JS SDK.
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "telemetry/propagation.h"

using lantern::telemetry::Context;
using lantern::telemetry::GlobalPropagator;
using lantern::telemetry::MapCarrier;
using lantern::telemetry::ToHex;

int main() {
  std::string line;
  while (std::getline(std::cin, line)) {
    nlohmann::json in = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    nlohmann::json out = nlohmann::json::object();
    if (!in.is_object()) {
      out["error"] = "not a JSON object";
      std::cout << out.dump() << "\n";
      continue;
    }
    MapCarrier carrier;
    for (const char* field : {"traceparent", "tracestate", "baggage"}) {
      if (in.contains(field) && in[field].is_string()) {
        carrier.Set(field, in[field].get<std::string>());
      }
    }
    Context context = GlobalPropagator().Extract(carrier, {});
    out["valid"] = context.span_context.IsValid();
    if (context.span_context.IsValid()) {
      out["trace_id"] = ToHex(context.span_context.trace_id);
      out["span_id"] = ToHex(context.span_context.span_id);
      out["sampled"] = context.span_context.IsSampled();
      out["tracestate"] = context.span_context.trace_state;
    }
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& e : context.baggage.entries()) {
      entries.push_back({{"key", e.key}, {"value", e.value}, {"metadata", e.metadata}});
    }
    out["baggage"] = entries;
    MapCarrier injected;
    GlobalPropagator().Inject(context, injected);
    out["inject"] = nlohmann::json::object();
    for (const auto& [key, value] : injected.headers()) out["inject"][key] = value;
    std::cout << out.dump() << "\n";
  }
  return 0;
}
