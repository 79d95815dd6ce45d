// The part of a span that crosses process boundaries: ids, trace flags, trace state.
#pragma once

#include <cstdint>
#include <string>

#include "telemetry/ids.h"
#include "telemetry/span_data.h"

namespace lantern::telemetry {

inline constexpr uint8_t kTraceFlagSampled = 0x01;

// OTLP Span.flags / Link.flags bits above the W3C trace flags: whether the parent (or the
// linked span) is known to be remote, and whether it is.
inline constexpr uint32_t kSpanFlagsHasIsRemote = 0x100;
inline constexpr uint32_t kSpanFlagsIsRemote = 0x200;

// W3C flags plus the OTLP remote bits, as stored in SpanData::flags and SpanLink::flags.
uint32_t SpanFlagsFor(uint8_t trace_flags, bool parent_is_remote);

struct SpanContext {
  TraceId trace_id{};
  SpanId span_id{};
  uint8_t trace_flags = 0;
  // True when it came from another process (extracted by a propagator).
  bool is_remote = false;
  // The validated W3C tracestate header value ("" when none).
  std::string trace_state;

  bool IsValid() const { return telemetry::IsValid(trace_id) && telemetry::IsValid(span_id); }
  bool IsSampled() const { return (trace_flags & kTraceFlagSampled) != 0; }
};

}  // namespace lantern::telemetry
