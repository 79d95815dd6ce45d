// The protobuf wire writer shared by the OTLP encoders of every signal (otlp_wire.cc for
// spans, otlp_metrics_wire.cc, otlp_logs_wire.cc): tags, varints, nested messages with
// back-patched lengths, and the common AnyValue/KeyValue messages. Internal to telemetry/.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "telemetry/otlp_grouping.h"
#include "telemetry/span_data.h"

namespace lantern::telemetry::otlp_wire {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

// Field numbers of common.proto and resource.proto.
namespace common_field {
constexpr uint32_t kResourceAttributes = 1;
constexpr uint32_t kScopeName = 1, kScopeVersion = 2;
constexpr uint32_t kKeyValueKey = 1, kKeyValueValue = 2;
constexpr uint32_t kAnyString = 1, kAnyBool = 2, kAnyInt = 3, kAnyDouble = 4, kAnyArray = 5;
constexpr uint32_t kArrayValues = 1;
}  // namespace common_field

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
  size_t array = w.BeginMessage(common_field::kAnyArray);
  for (const T& value : values) {
    size_t element = w.BeginMessage(common_field::kArrayValues);
    write_element(value);
    w.EndMessage(element);
  }
  w.EndMessage(array);
}

// The fields of an AnyValue (a oneof: the set member is written even when it is zero).
inline void WriteAnyValue(Writer& w, const AttributeValue& value) {
  auto write_string = [&w](const std::string& v) { w.StringField(common_field::kAnyString, v); };
  auto write_bool = [&w](bool v) { w.VarintField(common_field::kAnyBool, v ? 1 : 0); };
  auto write_int = [&w](int64_t v) {
    w.VarintField(common_field::kAnyInt, static_cast<uint64_t>(v));
  };
  auto write_double = [&w](double v) { w.DoubleField(common_field::kAnyDouble, v); };
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

inline void WriteAttributes(Writer& w, uint32_t number, const Attributes& attributes) {
  for (const Attribute& attribute : attributes) {
    size_t kv = w.BeginMessage(number);
    w.StringFieldIfSet(common_field::kKeyValueKey, attribute.key);
    size_t any = w.BeginMessage(common_field::kKeyValueValue);
    WriteAnyValue(w, attribute.value);
    w.EndMessage(any);
    w.EndMessage(kv);
  }
}

// A Resource message's body, then an InstrumentationScope's (null: empty).
inline void WriteResourceBody(Writer& w, const Resource* resource) {
  if (resource != nullptr)
    WriteAttributes(w, common_field::kResourceAttributes, resource->attributes);
}
inline void WriteScopeBody(Writer& w, const InstrumentationScope* scope) {
  if (scope == nullptr) return;
  w.StringFieldIfSet(common_field::kScopeName, scope->name);
  w.StringFieldIfSet(common_field::kScopeVersion, scope->version);
}

}  // namespace lantern::telemetry::otlp_wire
