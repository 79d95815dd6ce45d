// What travels with a request inside the process: the span to parent new spans on and the
// baggage. Passed explicitly (no hidden thread-local state): the server extracts one from
// the request headers and hands it to the engine with the request.
#pragma once

#include "telemetry/baggage.h"
#include "telemetry/span_context.h"

namespace lantern::telemetry {

struct Context {
  // The parent for spans started with this context; invalid means "start a new trace".
  SpanContext span_context;
  Baggage baggage;
  // The request asked for the detailed level (the server's per-request detail header):
  // engine-step spans and per-token events for it alone, and its trace kept.
  bool detailed = false;
};

}  // namespace lantern::telemetry
