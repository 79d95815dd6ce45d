// W3C Trace Context (https://www.w3.org/TR/trace-context/): the traceparent and tracestate
// headers, parsed and written exactly by the recommendation's rules.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "telemetry/span_context.h"

namespace lantern::telemetry {

// Parses a traceparent value ("00-<32 hex>-<16 hex>-<2 hex>"). Refuses version ff,
// all-zero ids, upper-case hex, and version 00 with anything after the flags; a higher
// version is read by position and must have '-' after the flags if it is longer.
// Surrounding spaces/tabs are ignored. The result is marked remote.
std::optional<SpanContext> ParseTraceParent(std::string_view header);
// "00-<trace id>-<span id>-<flags>" for a valid context.
std::string FormatTraceParent(const SpanContext& context);

// A parsed tracestate: at most 32 members, each key unique.
using TraceStateMembers = std::vector<std::pair<std::string, std::string>>;

// Parses a tracestate value (several headers joined by ','). Returns nullopt when the
// header is invalid as a whole: a member with a bad key or value, a duplicate key, or more
// than 32 members; the caller then discards all of it. Empty members are skipped.
std::optional<TraceStateMembers> ParseTraceState(std::string_view header);
// Members joined by ',' (no spaces): the canonical header value.
std::string FormatTraceState(const TraceStateMembers& members);
// The header normalized ("" when invalid or empty).
std::string NormalizeTraceState(std::string_view header);

bool IsValidTraceStateKey(std::string_view key);
bool IsValidTraceStateValue(std::string_view value);

}  // namespace lantern::telemetry
