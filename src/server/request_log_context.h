// The log context of a request (issue 17): the trace and span id every log line written
// while handling it carries (base/log's thread context). The router sets it on the I/O
// thread, the service carries it to the preprocessing task and the engine callbacks.
#pragma once

#include "base/log.h"
#include "server/http_types.h"
#include "telemetry/span_context.h"

namespace lantern::server {

// The ids of `span` (sampled or not: a log line names its trace either way, as
// OpenTelemetry's log bridges do).
log::Context ToLogContext(const telemetry::SpanContext& span);

// The caller's ids from a valid traceparent header, for a request that gets no HTTP span
// (tracing off); an invalid context when there is none.
log::Context TraceParentLogContext(const HttpRequest& request);

}  // namespace lantern::server
