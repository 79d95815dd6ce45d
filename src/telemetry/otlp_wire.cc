#include "telemetry/otlp_wire.h"

#include <bit>
#include <cstring>

#include "telemetry/otlp_grouping.h"

namespace lantern::telemetry {
namespace {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

// Field numbers, from the .proto files under proto/.
namespace field {
constexpr uint32_t kRequestResourceSpans = 1;
constexpr uint32_t kResourceSpansResource = 1, kResourceSpansScopeSpans = 2;
constexpr uint32_t kResourceAttributes = 1;
constexpr uint32_t kScopeSpansScope = 1, kScopeSpansSpans = 2;
constexpr uint32_t kScopeName = 1, kScopeVersion = 2;
constexpr uint32_t kSpanTraceId = 1, kSpanSpanId = 2, kSpanTraceState = 3, kSpanParentSpanId = 4,
                   kSpanName = 5, kSpanKind = 6, kSpanStart = 7, kSpanEnd = 8, kSpanAttributes = 9,
                   kSpanDroppedAttributes = 10, kSpanEvents = 11, kSpanDroppedEvents = 12,
                   kSpanLinks = 13, kSpanDroppedLinks = 14, kSpanStatus = 15, kSpanFlags = 16;
constexpr uint32_t kEventTime = 1, kEventName = 2, kEventAttributes = 3, kEventDropped = 4;
constexpr uint32_t kLinkTraceId = 1, kLinkSpanId = 2, kLinkTraceState = 3, kLinkAttributes = 4,
                   kLinkDropped = 5, kLinkFlags = 6;
constexpr uint32_t kStatusMessage = 2, kStatusCode = 3;
constexpr uint32_t kKeyValueKey = 1, kKeyValueValue = 2;
constexpr uint32_t kAnyString = 1, kAnyBool = 2, kAnyInt = 3, kAnyDouble = 4, kAnyArray = 5;
constexpr uint32_t kArrayValues = 1;
}  // namespace field

class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}

  void Varint(uint64_t value) {
    char buffer[10];
    size_t n = 0;
    while (value >= 0x80) {
      buffer[n++] = static_cast<char>((value & 0x7F) | 0x80);
      value >>= 7;
    }
    buffer[n++] = static_cast<char>(value);
    out_->append(buffer, n);
  }
  void Tag(uint32_t number, WireType type) { Varint((number << 3) | type); }

  void VarintField(uint32_t number, uint64_t value) {
    Tag(number, kVarint);
    Varint(value);
  }
  // proto3: scalars equal to their default are not written (outside a oneof).
  void VarintFieldIfSet(uint32_t number, uint64_t value) {
    if (value != 0) VarintField(number, value);
  }
  void Fixed64Field(uint32_t number, uint64_t value) {
    Tag(number, kFixed64);
    char bytes[8];
    std::memcpy(bytes, &value, 8);  // little-endian on every target we build for
    out_->append(bytes, 8);
  }
  void Fixed64FieldIfSet(uint32_t number, uint64_t value) {
    if (value != 0) Fixed64Field(number, value);
  }
  void Fixed32FieldIfSet(uint32_t number, uint32_t value) {
    if (value == 0) return;
    Tag(number, kFixed32);
    char bytes[4];
    std::memcpy(bytes, &value, 4);
    out_->append(bytes, 4);
  }
  void DoubleField(uint32_t number, double value) {
    Fixed64Field(number, std::bit_cast<uint64_t>(value));
  }
  void BytesField(uint32_t number, const void* data, size_t size) {
    Tag(number, kLengthDelimited);
    Varint(size);
    out_->append(static_cast<const char*>(data), size);
  }
  void StringField(uint32_t number, std::string_view text) {
    if (IsValidUtf8(text)) {
      BytesField(number, text.data(), text.size());
    } else {
      std::string valid = ToValidUtf8(text);
      BytesField(number, valid.data(), valid.size());
    }
  }
  void StringFieldIfSet(uint32_t number, std::string_view text) {
    if (!text.empty()) StringField(number, text);
  }

  // A nested message: its length is known only once it is written, so one byte is
  // reserved and the body moved along in the rare case the length needs more.
  size_t BeginMessage(uint32_t number) {
    Tag(number, kLengthDelimited);
    out_->push_back('\0');
    return out_->size();
  }
  void EndMessage(size_t start) {
    uint64_t length = out_->size() - start;
    if (length < 0x80) {
      (*out_)[start - 1] = static_cast<char>(length);
      return;
    }
    char buffer[10];
    size_t n = 0;
    uint64_t v = length;
    while (v >= 0x80) {
      buffer[n++] = static_cast<char>((v & 0x7F) | 0x80);
      v >>= 7;
    }
    buffer[n++] = static_cast<char>(v);
    out_->insert(start, n - 1, '\0');
    std::memcpy(out_->data() + start - 1, buffer, n);
  }

 private:
  std::string* out_;
};

template <typename T, typename Fn>
void WriteArray(Writer& w, const std::vector<T>& values, Fn write_element) {
  size_t array = w.BeginMessage(field::kAnyArray);
  for (const T& value : values) {
    size_t element = w.BeginMessage(field::kArrayValues);
    write_element(value);
    w.EndMessage(element);
  }
  w.EndMessage(array);
}

// The fields of an AnyValue (a oneof: the set member is written even when it is zero).
void WriteAnyValue(Writer& w, const AttributeValue& value) {
  auto write_string = [&w](const std::string& v) { w.StringField(field::kAnyString, v); };
  auto write_bool = [&w](bool v) { w.VarintField(field::kAnyBool, v ? 1 : 0); };
  auto write_int = [&w](int64_t v) { w.VarintField(field::kAnyInt, static_cast<uint64_t>(v)); };
  auto write_double = [&w](double v) { w.DoubleField(field::kAnyDouble, v); };
  switch (value.index()) {
    case 0:
      write_bool(std::get<bool>(value));
      break;
    case 1:
      write_int(std::get<int64_t>(value));
      break;
    case 2:
      write_double(std::get<double>(value));
      break;
    case 3:
      write_string(std::get<std::string>(value));
      break;
    case 4:
      WriteArray(w, std::get<std::vector<bool>>(value), write_bool);
      break;
    case 5:
      WriteArray(w, std::get<std::vector<int64_t>>(value), write_int);
      break;
    case 6:
      WriteArray(w, std::get<std::vector<double>>(value), write_double);
      break;
    case 7:
      WriteArray(w, std::get<std::vector<std::string>>(value), write_string);
      break;
  }
}

void WriteAttributes(Writer& w, uint32_t number, const Attributes& attributes) {
  for (const Attribute& attribute : attributes) {
    size_t kv = w.BeginMessage(number);
    w.StringFieldIfSet(field::kKeyValueKey, attribute.key);
    size_t any = w.BeginMessage(field::kKeyValueValue);
    WriteAnyValue(w, attribute.value);
    w.EndMessage(any);
    w.EndMessage(kv);
  }
}

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
      WriteAttributes(w, field::kResourceAttributes, group.resource->attributes);
    }
    w.EndMessage(resource);
    for (const OtlpScopeGroup& scope_group : group.scopes) {
      size_t scope_spans = w.BeginMessage(field::kResourceSpansScopeSpans);
      size_t scope = w.BeginMessage(field::kScopeSpansScope);
      if (scope_group.scope != nullptr) {
        w.StringFieldIfSet(field::kScopeName, scope_group.scope->name);
        w.StringFieldIfSet(field::kScopeVersion, scope_group.scope->version);
      }
      w.EndMessage(scope);
      for (const SpanData* span : scope_group.spans) WriteSpan(w, *span);
      w.EndMessage(scope_spans);
    }
    w.EndMessage(resource_spans);
  }
}

}  // namespace lantern::telemetry
