// Sets of code points as alternatives of UTF-8 byte-range sequences (the construction of
// Rust regex-syntax's Utf8Sequences), so that a byte-level grammar matches exactly the
// UTF-8 encodings of a character class. Internal to the grammar module.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/utf8.h"

namespace lantern::grammar {

using CodePointRange = std::pair<uint32_t, uint32_t>;  // inclusive
using ByteRangeSequence = std::vector<std::pair<uint8_t, uint8_t>>;

constexpr uint32_t kMaxCodePoint = 0x10FFFF;

// Sorted, merged ranges; surrogates (U+D800..U+DFFF) removed.
std::vector<CodePointRange> NormalizeRanges(std::vector<CodePointRange> ranges);
// Every code point of [0, kMaxCodePoint] not in `ranges`.
std::vector<CodePointRange> ComplementRanges(const std::vector<CodePointRange>& ranges);
// Byte-range sequences whose union is the UTF-8 encodings of `ranges` (normalized).
std::vector<ByteRangeSequence> Utf8Sequences(const std::vector<CodePointRange>& ranges);

}  // namespace lantern::grammar
