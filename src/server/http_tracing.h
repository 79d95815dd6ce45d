// The HTTP server span of every exchange (kind SERVER, stable HTTP semantic conventions),
// parented on the caller's traceparent/tracestate/baggage, and the W3C traceresponse
// header that hands its ids back to the caller. Handlers reach the span's context through
// ResponseWriter::trace_context().
#pragma once

#include <string>

#include "server/router.h"
#include "telemetry/span_context.h"

namespace lantern::server {

// The per-request detail header: `x-lantern-trace-detail: detailed` raises one request to
// the detailed level (its engine_step spans, per-token events) and forces its trace to be
// kept (telemetry::kForceKeepAttribute on the HTTP span). With an API key set it counts
// only beside a valid "Authorization: Bearer <key>"; ignored (debug log) otherwise.
inline constexpr char kTraceDetailHeader[] = "x-lantern-trace-detail";

// A Router observer factory. While tracing is off (no provider) it returns no observer and
// builds nothing; the first request that carries a traceparent then logs, once per
// process, that tracing is disabled. `api_key`: the server's (--api-key), or empty.
Router::ObserverFactory MakeHttpTracingObserverFactory(std::string api_key = {});

// "00-<trace id>-<span id>-<flags>"; "" for an invalid context.
std::string FormatTraceResponse(const telemetry::SpanContext& context);

// The server.address / server.port of a request: the Host header's, else the socket's.
struct ServerAuthority {
  std::string address;
  int port = 0;
};
ServerAuthority RequestAuthority(const HttpRequest& request);

}  // namespace lantern::server
