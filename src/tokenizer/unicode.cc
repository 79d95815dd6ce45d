#include "tokenizer/unicode.h"

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include <vector>

#include "base/utf8.h"

namespace lantern::tokenizer {
namespace {

bool IsAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

std::u16string ToUtf16(std::string_view s) {
  std::u16string out(s.size() + 1, u'\0');
  int32_t length = 0;
  UErrorCode status = U_ZERO_ERROR;
  u_strFromUTF8(reinterpret_cast<UChar*>(out.data()), static_cast<int32_t>(out.size()), &length,
                s.data(), static_cast<int32_t>(s.size()), &status);
  out.resize(U_SUCCESS(status) ? length : 0);
  return out;
}

std::string FromUtf16(const std::u16string& s) {
  std::string out(s.size() * 3 + 1, '\0');
  int32_t length = 0;
  UErrorCode status = U_ZERO_ERROR;
  u_strToUTF8(out.data(), static_cast<int32_t>(out.size()), &length,
              reinterpret_cast<const UChar*>(s.data()), static_cast<int32_t>(s.size()), &status);
  out.resize(U_SUCCESS(status) ? length : 0);
  return out;
}

using NormalizerGetter = const UNormalizer2* (*)(UErrorCode*);

std::string Normalize(std::string_view s, NormalizerGetter getter) {
  if (IsAscii(s)) return std::string(s);  // ASCII is invariant under every form
  UErrorCode status = U_ZERO_ERROR;
  const UNormalizer2* normalizer = getter(&status);
  if (U_FAILURE(status)) return std::string(s);
  std::u16string in = ToUtf16(s);
  status = U_ZERO_ERROR;
  if (unorm2_isNormalized(normalizer, reinterpret_cast<const UChar*>(in.data()),
                          static_cast<int32_t>(in.size()), &status) &&
      U_SUCCESS(status)) {
    return std::string(s);
  }
  std::u16string out(in.size() * 4 + 16, u'\0');
  status = U_ZERO_ERROR;
  int32_t length = unorm2_normalize(
      normalizer, reinterpret_cast<const UChar*>(in.data()), static_cast<int32_t>(in.size()),
      reinterpret_cast<UChar*>(out.data()), static_cast<int32_t>(out.size()), &status);
  if (status == U_BUFFER_OVERFLOW_ERROR) {
    out.assign(length, u'\0');
    status = U_ZERO_ERROR;
    length = unorm2_normalize(normalizer, reinterpret_cast<const UChar*>(in.data()),
                              static_cast<int32_t>(in.size()), reinterpret_cast<UChar*>(out.data()),
                              static_cast<int32_t>(out.size()), &status);
  }
  if (U_FAILURE(status)) return std::string(s);
  out.resize(length);
  return FromUtf16(out);
}

}  // namespace

void AppendUtf8(char32_t cp, std::string& out) { ::lantern::AppendUtf8(cp, &out); }

namespace {

// Length of the valid UTF-8 sequence at `i`, or 0 with `*bad` set to the length of the
// maximal invalid prefix (at least 1) that the lossy decoder replaces by one U+FFFD.
size_t ValidSequenceAt(std::string_view s, size_t i, size_t* bad) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char b0 = b(0);
  if (b0 < 0x80) return 1;
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    *bad = 1;
    return 0;
  }
  size_t k = 1;
  for (; k < need; ++k) {
    if (i + k >= s.size()) break;
    const unsigned char c = b(k);
    const bool ok = k == 1 ? (c >= lo && c <= hi) : (c >= 0x80 && c <= 0xBF);
    if (!ok) break;
  }
  if (k == need) return need;
  *bad = k;
  return 0;
}

}  // namespace

std::string Utf8Lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t i = 0;
  while (i < bytes.size()) {
    size_t bad = 0;
    const size_t n = ValidSequenceAt(bytes, i, &bad);
    if (n > 0) {
      out.append(bytes.substr(i, n));
      i += n;
    } else {
      out.append("\xEF\xBF\xBD");
      i += bad;
    }
  }
  return out;
}

bool IsValidUtf8(std::string_view bytes) {
  size_t i = 0;
  while (i < bytes.size()) {
    size_t bad = 0;
    const size_t n = ValidSequenceAt(bytes, i, &bad);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

bool IsWhitespace(char32_t cp) {
  if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D);
  return u_hasBinaryProperty(static_cast<UChar32>(cp), UCHAR_WHITE_SPACE);
}

bool IsLetter(char32_t cp) {
  if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
  return (U_GET_GC_MASK(static_cast<UChar32>(cp)) & U_GC_L_MASK) != 0;
}

bool IsNumber(char32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  return (U_GET_GC_MASK(static_cast<UChar32>(cp)) & U_GC_N_MASK) != 0;
}

bool IsMark(char32_t cp) { return (U_GET_GC_MASK(static_cast<UChar32>(cp)) & U_GC_M_MASK) != 0; }

bool IsPunctuation(char32_t cp) {
  if (cp < 0x80) {
    return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) || (cp >= 0x5B && cp <= 0x60) ||
           (cp >= 0x7B && cp <= 0x7E);
  }
  return (U_GET_GC_MASK(static_cast<UChar32>(cp)) & U_GC_P_MASK) != 0;
}

bool IsAlphanumeric(char32_t cp) {
  if (cp < 0x80) return IsLetter(cp) || IsNumber(cp);
  return u_hasBinaryProperty(static_cast<UChar32>(cp), UCHAR_ALPHABETIC) || IsNumber(cp);
}

std::string ToNfc(std::string_view s) { return Normalize(s, unorm2_getNFCInstance); }
std::string ToNfkc(std::string_view s) { return Normalize(s, unorm2_getNFKCInstance); }
std::string ToNfd(std::string_view s) { return Normalize(s, unorm2_getNFDInstance); }
std::string ToNfkd(std::string_view s) { return Normalize(s, unorm2_getNFKDInstance); }

std::string ToLower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    const char32_t cp = NextCodePoint(s, pos);
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
      continue;
    }
    // One code point at a time so no context-dependent rule (final sigma) applies.
    UChar in[2];
    int32_t in_length = 0;
    U16_APPEND_UNSAFE(in, in_length, static_cast<UChar32>(cp));
    UChar lowered[8];
    UErrorCode status = U_ZERO_ERROR;
    const int32_t n = u_strToLower(lowered, 8, in, in_length, "", &status);
    if (U_FAILURE(status)) {
      AppendUtf8(cp, out);
      continue;
    }
    for (int32_t i = 0; i < n;) {
      UChar32 c;
      U16_NEXT(lowered, i, n, c);
      AppendUtf8(static_cast<char32_t>(c), out);
    }
  }
  return out;
}

}  // namespace lantern::tokenizer
