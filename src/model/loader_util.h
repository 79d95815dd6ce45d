// Small helpers shared by the checkpoint readers (safetensors, zip, pickle, index files):
// overflow-checked arithmetic, little-endian reads, UTF-8 validation and a JSON parser that
// refuses duplicate keys. Internal to model/; not part of its public API.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace lantern::model::internal {

// *out = a * b (or a + b); false on unsigned 64-bit overflow.
inline bool CheckedMul(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}
inline bool CheckedAdd(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_add_overflow(a, b, out);
}

// Reads an unsigned little-endian integer of sizeof(T) bytes; `p` needs no alignment.
template <typename T>
T ReadLe(const std::byte* p) {
  T value = 0;
  for (size_t i = 0; i < sizeof(T); ++i) {
    value |= static_cast<T>(static_cast<uint8_t>(p[i])) << (8 * i);
  }
  return value;
}

// True when `text` is well-formed UTF-8 (no overlong forms, surrogates or code points
// above U+10FFFF), as Rust's str::from_utf8 and Python's decoder require.
bool IsValidUtf8(std::string_view text);

// Quotes a possibly hostile string for an error message: printable ASCII kept, the rest
// escaped, long strings cut.
std::string Quote(std::string_view text, size_t max_len = 80);

// Parses JSON, refusing duplicate keys in any object (nlohmann would keep the last one
// silently) and nesting deeper than `max_depth`. Errors name `source`.
Result<nlohmann::json> ParseJsonStrict(std::string_view text, const std::string& source,
                                       int max_depth);

}  // namespace lantern::model::internal
