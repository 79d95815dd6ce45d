#include "tokenizer/split_patterns.h"

#include <array>
#include <cstdint>

#include "tokenizer/unicode.h"

namespace lantern::tokenizer {
namespace {

enum CharClass : uint8_t { kOther, kLetter, kNumber, kSpace };

CharClass Classify(char32_t cp) {
  if (IsLetter(cp)) return kLetter;
  if (IsNumber(cp)) return kNumber;
  if (IsWhitespace(cp)) return kSpace;
  return kOther;
}

// Class of every BMP code point, computed once; astral ones are looked up directly.
const std::array<CharClass, 0x10000>& BmpClasses() {
  static const auto* table = [] {
    auto* t = new std::array<CharClass, 0x10000>;
    for (char32_t cp = 0; cp < 0x10000; ++cp) (*t)[cp] = Classify(cp);
    return t;
  }();
  return *table;
}

// Walks valid UTF-8 text code point by code point, classifying each.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text), classes_(BmpClasses()) {}

  size_t size() const { return text_.size(); }
  unsigned char byte(size_t pos) const { return static_cast<unsigned char>(text_[pos]); }
  CharClass ClassAt(size_t pos) const {
    const unsigned char b = byte(pos);
    if (b < 0x80) return classes_[b];
    size_t p = pos;
    const char32_t cp = NextCodePoint(text_, p);
    return cp < 0x10000 ? classes_[cp] : Classify(cp);
  }
  size_t Next(size_t pos) const { return pos + Utf8Length(byte(pos)); }
  // Position after the run of code points of class `c` starting at `pos`.
  size_t SkipClass(size_t pos, CharClass c) const {
    while (pos < size() && ClassAt(pos) == c) pos = Next(pos);
    return pos;
  }
  // Start of the code point that ends at `end`.
  size_t Previous(size_t end) const {
    size_t p = end - 1;
    while (p > 0 && (byte(p) & 0xC0) == 0x80) --p;
    return p;
  }
  bool IsNewline(size_t pos) const { return byte(pos) == '\r' || byte(pos) == '\n'; }

 private:
  std::string_view text_;
  const std::array<CharClass, 0x10000>& classes_;
};

// `'s|'t|'re|'ve|'m|'ll|'d` at `pos`; returns the match length or 0. Case-insensitive
// matching follows Unicode simple case folding, where U+017F LATIN SMALL LETTER LONG S
// folds to 's'.
size_t MatchContraction(const Scanner& s, size_t pos, bool ignore_case) {
  if (s.byte(pos) != '\'' || pos + 1 >= s.size()) return 0;
  auto lower = [&](size_t p) -> int {
    const unsigned char b = s.byte(p);
    if (ignore_case && b >= 'A' && b <= 'Z') return b + 32;
    return b;
  };
  const int c1 = lower(pos + 1);
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
  if (ignore_case && s.byte(pos + 1) == 0xC5 && pos + 2 < s.size() && s.byte(pos + 2) == 0xBF) {
    return 3;  // 'ſ
  }
  if (pos + 2 >= s.size()) return 0;
  const int c2 = lower(pos + 2);
  if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
  return 0;
}

// `\s+(?!\S)` then `\s+`, for a whitespace run starting at `pos`.
size_t MatchTrailingSpaces(const Scanner& s, size_t pos) {
  const size_t end = s.SkipClass(pos, kSpace);
  if (end == s.size()) return end;
  const size_t last = s.Previous(end);
  return last > pos ? last : end;
}

void SplitGpt2Like(std::string_view text, std::vector<Span>& out) {
  const Scanner s(text);
  size_t pos = 0;
  while (pos < s.size()) {
    size_t end = pos + MatchContraction(s, pos, /*ignore_case=*/false);
    if (end == pos) {
      size_t start = pos;
      if (s.byte(pos) == ' ' && pos + 1 < s.size() && s.ClassAt(pos + 1) != kSpace) ++start;
      const CharClass c = s.ClassAt(start);
      end = c == kSpace ? MatchTrailingSpaces(s, pos) : s.SkipClass(start, c);
    }
    out.emplace_back(pos, end);
    pos = end;
  }
}

template <bool kSingleDigits>
void SplitLlama3Like(std::string_view text, std::vector<Span>& out) {
  const Scanner s(text);
  size_t pos = 0;
  while (pos < s.size()) {
    size_t end = pos + MatchContraction(s, pos, /*ignore_case=*/true);
    if (end == pos) {
      const CharClass c = s.ClassAt(pos);
      if (c == kLetter) {
        end = s.SkipClass(pos, kLetter);
      } else if (c == kNumber) {
        end = s.Next(pos);
        if (!kSingleDigits) {
          for (int i = 1; i < 3 && end < s.size() && s.ClassAt(end) == kNumber; ++i) {
            end = s.Next(end);
          }
        }
      } else {
        // [^\r\n\p{L}\p{N}]?\p{L}+
        const size_t next = s.Next(pos);
        if (!s.IsNewline(pos) && next < s.size() && s.ClassAt(next) == kLetter) {
          end = s.SkipClass(next, kLetter);
        } else if (c == kOther ||
                   (s.byte(pos) == ' ' && next < s.size() && s.ClassAt(next) == kOther)) {
          // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
          end = s.SkipClass(c == kOther ? pos : next, kOther);
          while (end < s.size() && s.IsNewline(end)) ++end;
        } else {
          // Whitespace: `\s*[\r\n]+`, else `\s+(?!\S)`, else `\s+`.
          const size_t run_end = s.SkipClass(pos, kSpace);
          size_t last_newline = run_end;
          for (size_t p = pos; p < run_end; p = s.Next(p)) {
            if (s.IsNewline(p)) last_newline = p;
          }
          end = last_newline != run_end ? last_newline + 1 : MatchTrailingSpaces(s, pos);
        }
      }
    }
    out.emplace_back(pos, end);
    pos = end;
  }
}

}  // namespace

void SplitGpt2(std::string_view text, std::vector<Span>& matches) { SplitGpt2Like(text, matches); }
void SplitLlama3(std::string_view text, std::vector<Span>& matches) {
  SplitLlama3Like<false>(text, matches);
}
void SplitQwen2(std::string_view text, std::vector<Span>& matches) {
  SplitLlama3Like<true>(text, matches);
}

}  // namespace lantern::tokenizer
