#include "telemetry/otlp_wire.h"

#include <bit>
#include <cstring>

#include "telemetry/otlp_grouping.h"
#include "telemetry/otlp_wire_writer.h"

namespace lantern::telemetry {
namespace {

using namespace otlp_wire;  // NOLINT(build/namespaces): the shared writer

// Field numbers, from the .proto files under proto/.
namespace field {
constexpr uint32_t kRequestResourceSpans = 1;
constexpr uint32_t kResourceSpansResource = 1, kResourceSpansScopeSpans = 2;
constexpr uint32_t kScopeSpansScope = 1, kScopeSpansSpans = 2;
constexpr uint32_t kSpanTraceId = 1, kSpanSpanId = 2, kSpanTraceState = 3, kSpanParentSpanId = 4,
                   kSpanName = 5, kSpanKind = 6, kSpanStart = 7, kSpanEnd = 8, kSpanAttributes = 9,
                   kSpanDroppedAttributes = 10, kSpanEvents = 11, kSpanDroppedEvents = 12,
                   kSpanLinks = 13, kSpanDroppedLinks = 14, kSpanStatus = 15, kSpanFlags = 16;
constexpr uint32_t kEventTime = 1, kEventName = 2, kEventAttributes = 3, kEventDropped = 4;
constexpr uint32_t kLinkTraceId = 1, kLinkSpanId = 2, kLinkTraceState = 3, kLinkAttributes = 4,
                   kLinkDropped = 5, kLinkFlags = 6;
constexpr uint32_t kStatusMessage = 2, kStatusCode = 3;
}  // namespace field

void WriteSpan(Writer& w, const SpanData& span) {
  size_t start = w.BeginMessage(field::kScopeSpansSpans);
  w.BytesField(field::kSpanTraceId, span.trace_id.data(), span.trace_id.size());
  w.BytesField(field::kSpanSpanId, span.span_id.data(), span.span_id.size());
  w.StringFieldIfSet(field::kSpanTraceState, span.trace_state);
  if (span.parent_span_id != SpanId{}) {
    w.BytesField(field::kSpanParentSpanId, span.parent_span_id.data(), span.parent_span_id.size());
  }
  w.StringFieldIfSet(field::kSpanName, span.name);
  w.VarintFieldIfSet(field::kSpanKind, static_cast<uint64_t>(span.kind));
  w.Fixed64FieldIfSet(field::kSpanStart, static_cast<uint64_t>(span.start_time_unix_nano));
  w.Fixed64FieldIfSet(field::kSpanEnd, static_cast<uint64_t>(span.end_time_unix_nano));
  WriteAttributes(w, field::kSpanAttributes, span.attributes);
  w.VarintFieldIfSet(field::kSpanDroppedAttributes, span.dropped_attributes_count);
  for (const SpanEvent& event : span.events) {
    size_t e = w.BeginMessage(field::kSpanEvents);
    w.Fixed64FieldIfSet(field::kEventTime, static_cast<uint64_t>(event.time_unix_nano));
    w.StringFieldIfSet(field::kEventName, event.name);
    WriteAttributes(w, field::kEventAttributes, event.attributes);
    w.VarintFieldIfSet(field::kEventDropped, event.dropped_attributes_count);
    w.EndMessage(e);
  }
  w.VarintFieldIfSet(field::kSpanDroppedEvents, span.dropped_events_count);
  for (const SpanLink& link : span.links) {
    size_t l = w.BeginMessage(field::kSpanLinks);
    w.BytesField(field::kLinkTraceId, link.trace_id.data(), link.trace_id.size());
    w.BytesField(field::kLinkSpanId, link.span_id.data(), link.span_id.size());
    w.StringFieldIfSet(field::kLinkTraceState, link.trace_state);
    WriteAttributes(w, field::kLinkAttributes, link.attributes);
    w.VarintFieldIfSet(field::kLinkDropped, link.dropped_attributes_count);
    w.Fixed32FieldIfSet(field::kLinkFlags, link.flags);
    w.EndMessage(l);
  }
  w.VarintFieldIfSet(field::kSpanDroppedLinks, span.dropped_links_count);
  if (span.status_code != StatusCode::kUnset || !span.status_message.empty()) {
    size_t s = w.BeginMessage(field::kSpanStatus);
    w.StringFieldIfSet(field::kStatusMessage, span.status_message);
    w.VarintFieldIfSet(field::kStatusCode, static_cast<uint64_t>(span.status_code));
    w.EndMessage(s);
  }
  w.Fixed32FieldIfSet(field::kSpanFlags, span.flags);
  w.EndMessage(start);
}

}  // namespace

void AppendOtlpProtobuf(std::span<const SpanData* const> spans, std::string* out) {
  Writer w(out);
  for (const OtlpResourceGroup& group : GroupByResourceAndScope(spans)) {
    size_t resource_spans = w.BeginMessage(field::kRequestResourceSpans);
    size_t resource = w.BeginMessage(field::kResourceSpansResource);
    if (group.resource != nullptr) {
      WriteAttributes(w, common_field::kResourceAttributes, group.resource->attributes);
    }
    w.EndMessage(resource);
    for (const OtlpScopeGroup& scope_group : group.scopes) {
      size_t scope_spans = w.BeginMessage(field::kResourceSpansScopeSpans);
      size_t scope = w.BeginMessage(field::kScopeSpansScope);
      if (scope_group.scope != nullptr) {
        w.StringFieldIfSet(common_field::kScopeName, scope_group.scope->name);
        w.StringFieldIfSet(common_field::kScopeVersion, scope_group.scope->version);
      }
      w.EndMessage(scope);
      for (const SpanData* span : scope_group.spans) WriteSpan(w, *span);
      w.EndMessage(scope_spans);
    }
    w.EndMessage(resource_spans);
  }
}

}  // namespace lantern::telemetry
