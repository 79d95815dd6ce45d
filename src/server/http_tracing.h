// The HTTP server span of every exchange (kind SERVER, stable HTTP semantic conventions),
// parented on the caller's traceparent/tracestate/baggage, and the W3C traceresponse
// header that hands its ids back to the caller. Handlers reach the span's context through
// ResponseWriter::trace_context().
#pragma once

#include <string>

#include "server/router.h"
#include "telemetry/span_context.h"

namespace lantern::server {

// A Router observer factory. While tracing is off (no provider) it returns no observer and
// builds nothing; the first request that carries a traceparent then logs, once per
// process, that tracing is disabled.
Router::ObserverFactory MakeHttpTracingObserverFactory();

// "00-<trace id>-<span id>-<flags>"; "" for an invalid context.
std::string FormatTraceResponse(const telemetry::SpanContext& context);

// The server.address / server.port of a request: the Host header's, else the socket's.
struct ServerAuthority {
  std::string address;
  int port = 0;
};
ServerAuthority RequestAuthority(const HttpRequest& request);

}  // namespace lantern::server
