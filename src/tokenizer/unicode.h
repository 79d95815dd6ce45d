// UTF-8 and Unicode character properties used by the tokenizer pipeline. Property
// queries and normalization go through ICU so they follow one Unicode version.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lantern::tokenizer {

// Decodes the code point at `pos` of valid UTF-8 `s` and advances `pos` past it. The
// input must be valid UTF-8 (see MakeValidUtf8).
inline char32_t NextCodePoint(std::string_view s, size_t& pos) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) {
    ++pos;
    return b0;
  }
  auto cont = [&](size_t i) { return static_cast<unsigned char>(s[pos + i]) & 0x3F; };
  char32_t cp;
  if (b0 < 0xE0) {
    cp = ((b0 & 0x1F) << 6) | cont(1);
    pos += 2;
  } else if (b0 < 0xF0) {
    cp = ((b0 & 0x0F) << 12) | (cont(1) << 6) | cont(2);
    pos += 3;
  } else {
    cp = ((b0 & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
    pos += 4;
  }
  return cp;
}

// Length in bytes of the UTF-8 sequence that starts with `lead` (1 for stray bytes).
inline size_t Utf8Length(unsigned char lead) {
  if (lead < 0xC0) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

void AppendUtf8(char32_t cp, std::string& out);

// Returns `bytes` decoded as UTF-8 where every maximal invalid subsequence becomes one
// U+FFFD, the same rule as Rust's String::from_utf8_lossy (and the WHATWG decoder).
std::string Utf8Lossy(std::string_view bytes);
bool IsValidUtf8(std::string_view bytes);

// Unicode properties, matching what Rust's `char` methods and Oniguruma's classes use.
bool IsWhitespace(char32_t cp);    // White_Space property (\s)
bool IsLetter(char32_t cp);        // general category L* (\p{L})
bool IsNumber(char32_t cp);        // general category N* (\p{N}, char::is_numeric)
bool IsMark(char32_t cp);          // general category M*
bool IsPunctuation(char32_t cp);   // general category P* or ASCII punctuation
bool IsAlphanumeric(char32_t cp);  // char::is_alphanumeric: Alphabetic or N*

// Normalization forms; the input must be valid UTF-8.
std::string ToNfc(std::string_view s);
std::string ToNfkc(std::string_view s);
std::string ToNfd(std::string_view s);
std::string ToNfkd(std::string_view s);
// Full lowercase mapping applied one code point at a time (Rust's char::to_lowercase).
std::string ToLower(std::string_view s);

}  // namespace lantern::tokenizer
