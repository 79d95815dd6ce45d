// What the SDK hands to exporters: a finished span, owned, immutable. Exporters (OTLP
// gRPC/HTTP, JSON, console, file) translate these; nothing else crosses that boundary.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "telemetry/attribute_key.h"

namespace lantern::telemetry {

using TraceId = std::array<uint8_t, 16>;
using SpanId = std::array<uint8_t, 8>;

// Values of every OTLP attribute type (AnyValue without kvlist/bytes).
using AttributeValue =
    std::variant<bool, int64_t, double, std::string, std::vector<bool>, std::vector<int64_t>,
                 std::vector<double>, std::vector<std::string>>;

struct Attribute {
  AttributeKey key;  // a literal is not copied (attribute_key.h)
  AttributeValue value;
};
using Attributes = std::vector<Attribute>;

// Values are the OTLP enum numbers.
enum class SpanKind : int {
  kUnspecified = 0,
  kInternal = 1,
  kServer = 2,
  kClient = 3,
  kProducer = 4,
  kConsumer = 5
};
enum class StatusCode : int { kUnset = 0, kOk = 1, kError = 2 };

struct SpanEvent {
  int64_t time_unix_nano = 0;
  std::string name;
  Attributes attributes;
  uint32_t dropped_attributes_count = 0;
};

struct SpanLink {
  TraceId trace_id{};
  SpanId span_id{};
  std::string trace_state;
  uint32_t flags = 0;  // W3C trace flags of the linked context
  // (telemetry SDK: plus the OTLP bits 0x100 "has is_remote" and 0x200 "is remote", as
  // OTLP Link.flags defines them; export the value as is.)
  Attributes attributes;
  uint32_t dropped_attributes_count = 0;
};

// The process's resource and the instrumentation scope, shared by many spans.
struct Resource {
  Attributes attributes;
};
struct InstrumentationScope {
  std::string name;
  std::string version;
};

struct SpanData {
  TraceId trace_id{};
  SpanId span_id{};
  SpanId parent_span_id{};  // all zero for a root span
  std::string trace_state;
  uint32_t flags = 0;  // W3C trace flags (bit 0: sampled)
  // (telemetry SDK: plus the OTLP bits 0x100 "has is_remote" and 0x200 "parent is remote",
  // as OTLP Span.flags defines them; export the value as is.)
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  int64_t start_time_unix_nano = 0;
  int64_t end_time_unix_nano = 0;
  Attributes attributes;
  uint32_t dropped_attributes_count = 0;
  std::vector<SpanEvent> events;
  uint32_t dropped_events_count = 0;
  std::vector<SpanLink> links;
  uint32_t dropped_links_count = 0;
  StatusCode status_code = StatusCode::kUnset;
  std::string status_message;
  std::shared_ptr<const Resource> resource;
  std::shared_ptr<const InstrumentationScope> scope;

  // Not exported: buffers of string attribute values from this record's earlier use
  // (span_data_pool.h), so that setting a string attribute need not allocate.
  std::vector<std::string> spare_strings;
  // Not exported: a one-word filter of the attribute keys set (AttributeKeyFilterBit).
  uint64_t attribute_key_filter = 0;
};

// One bit of 64 from a key's length and last two bytes: keys of one span nearly always
// differ there, so a clear bit tells that the key was not set before.
inline uint64_t AttributeKeyFilterBit(const AttributeKey& key) {
  const size_t n = key.size();
  const unsigned last = n > 0 ? static_cast<unsigned char>(key.data()[n - 1]) : 0u;
  const unsigned before = n > 1 ? static_cast<unsigned char>(key.data()[n - 2]) : 0u;
  return uint64_t{1} << ((n * 11 + last * 7 + before * 3) & 63);
}

}  // namespace lantern::telemetry
