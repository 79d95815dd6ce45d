// Trace and span ids: 128 and 64 random bits from a per-thread generator seeded from the
// kernel (getrandom) and reseeded in a child process after fork, so parent and child
// never repeat each other's ids. Never all-zero (the W3C invalid value).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "telemetry/span_data.h"

namespace lantern::telemetry {

TraceId NewTraceId();
SpanId NewSpanId();

// A root span's two ids from one generator access.
void NewTraceAndSpanId(TraceId* trace_id, SpanId* span_id);

// Not all zero. (Inline: every span start asks about its parent.)
inline bool IsValid(const TraceId& id) {
  uint64_t words[2];
  std::memcpy(words, id.data(), sizeof words);
  return (words[0] | words[1]) != 0;
}
inline bool IsValid(const SpanId& id) {
  uint64_t word;
  std::memcpy(&word, id.data(), sizeof word);
  return word != 0;
}

// Lower-case hex, as in traceparent and OTLP/JSON.
std::string ToHex(const TraceId& id);
std::string ToHex(const SpanId& id);
// Parses exactly 32 / 16 lower-case hex digits; false otherwise (upper case is refused,
// as W3C trace context requires).
bool ParseHex(std::string_view hex, TraceId* id);
bool ParseHex(std::string_view hex, SpanId* id);

}  // namespace lantern::telemetry
