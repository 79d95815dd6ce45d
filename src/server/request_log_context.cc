#include "server/request_log_context.h"

#include <optional>

#include "telemetry/trace_context.h"

namespace lantern::server {

log::Context ToLogContext(const telemetry::SpanContext& span) {
  log::Context context;
  if (!span.IsValid()) return context;
  context.trace_id = span.trace_id;
  context.span_id = span.span_id;
  context.trace_flags = span.trace_flags;
  return context;
}

log::Context TraceParentLogContext(const HttpRequest& request) {
  std::string_view header = request.Header("traceparent");
  if (header.empty()) return {};
  std::optional<telemetry::SpanContext> parsed = telemetry::ParseTraceParent(header);
  return parsed ? ToLogContext(*parsed) : log::Context{};
}

}  // namespace lantern::server
