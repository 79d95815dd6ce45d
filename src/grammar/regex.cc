// Regular expressions (the subset documented in translate.h) to GBNF expressions.
#include <stdexcept>
#include <string>

#include "grammar/grammar_ir.h"
#include "grammar/translate.h"
#include "grammar/utf8_ranges.h"

namespace lantern::grammar {
namespace {

class RegexError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using Ranges = std::vector<CodePointRange>;

std::string Hex(uint32_t v, int digits) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string s(digits, '0');
  for (int i = digits - 1; i >= 0; --i, v >>= 4) s[i] = kHex[v & 15];
  return s;
}

std::string ClassChar(uint32_t cp) {
  if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9')) {
    return std::string(1, static_cast<char>(cp));
  }
  return cp <= 0xFF ? "\\x" + Hex(cp, 2) : cp <= 0xFFFF ? "\\u" + Hex(cp, 4) : "\\U" + Hex(cp, 8);
}

}  // namespace

std::string GbnfClass(const std::vector<CodePointRange>& ranges) {
  std::string out = "[";
  for (const auto& [lo, hi] : NormalizeRanges(ranges)) {
    out += ClassChar(lo);
    if (hi != lo) {
      out += '-';
      out += ClassChar(hi);
    }
  }
  return out + "]";
}

namespace {

class RegexParser {
 public:
  RegexParser(std::string_view src, bool json_string) : src_(src), json_string_(json_string) {}

  std::string Parse() {
    if (Peek() == '^') ++pos_;
    std::string expr = ParseAlternatives(0);
    if (pos_ < src_.size()) Fail(std::string("unexpected '") + src_[pos_] + "'");
    return expr;
  }

 private:
  [[noreturn]] void Fail(const std::string& what) const {
    throw RegexError(what + " at position " + std::to_string(pos_));
  }
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0';
  }
  bool AtEnd() const { return pos_ >= src_.size(); }

  std::string ParseAlternatives(int depth) {
    if (depth > GrammarLimits::kMaxNesting) Fail("groups nest too deeply");
    std::string out = "(";
    out += ParseConcat(depth);
    while (Peek() == '|' && !AtEnd()) {
      ++pos_;
      out += " | ";
      out += ParseConcat(depth);
    }
    out += ')';
    return out;
  }

  std::string ParseConcat(int depth) {
    std::string out;
    while (!AtEnd() && Peek() != '|' && Peek() != ')') {
      if (Peek() == '$' && pos_ + 1 == src_.size()) {
        ++pos_;
        break;
      }
      std::string atom = ParseAtom(depth);
      atom += ParseQuantifier();
      out += atom + " ";
    }
    return out.empty() ? "\"\"" : out;
  }

  std::string ParseQuantifier() {
    std::string q;
    while (!AtEnd()) {
      const char c = Peek();
      if (c == '*' || c == '+' || c == '?') {
        if (!q.empty()) Fail("a quantifier follows another");
        ++pos_;
        q = std::string(1, c);
      } else if (c == '{' && IsCountedRepetition()) {
        if (!q.empty()) Fail("a quantifier follows another");
        const size_t start = pos_;
        while (Peek() != '}') ++pos_;
        ++pos_;
        q = std::string(src_.substr(start, pos_ - start));
      } else {
        break;
      }
      if (Peek() == '?') ++pos_;  // lazy: the same strings match
      if (Peek() == '+') Fail("possessive quantifiers are not supported");
    }
    return q;
  }

  bool IsCountedRepetition() const {
    size_t i = pos_ + 1;
    bool digits = false;
    while (i < src_.size() && src_[i] >= '0' && src_[i] <= '9') ++i, digits = true;
    if (!digits) return false;
    if (i < src_.size() && src_[i] == ',') {
      ++i;
      while (i < src_.size() && src_[i] >= '0' && src_[i] <= '9') ++i;
    }
    return i < src_.size() && src_[i] == '}';
  }

  uint32_t NextCodePoint() {
    const auto b0 = static_cast<unsigned char>(src_[pos_]);
    const int len = b0 < 0x80 ? 1 : b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC0 ? 2 : 0;
    if (len == 0 || pos_ + len > src_.size()) Fail("invalid UTF-8");
    uint32_t cp = len == 1 ? b0 : len == 2 ? b0 & 0x1F : len == 3 ? b0 & 0x0F : b0 & 0x07;
    for (int i = 1; i < len; ++i) cp = (cp << 6) | (src_[pos_ + i] & 0x3F);
    pos_ += len;
    return cp;
  }

  uint32_t ParseHexDigits(int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; ++i) {
      const char c = Peek();
      const int h = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
      if (h < 0) Fail("expected " + std::to_string(n) + " hex digits");
      v = v * 16 + h;
      ++pos_;
    }
    return v;
  }

  // After a backslash: a class (\d ...) into `ranges` and true, or one code point.
  bool ParseEscape(Ranges* ranges, uint32_t* cp) {
    if (AtEnd()) Fail("trailing backslash");
    const char e = src_[pos_++];
    static const Ranges kDigit = {{'0', '9'}};
    static const Ranges kWord = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
    static const Ranges kSpace = {{'\t', '\r'}, {' ', ' '}};
    switch (e) {
      case 'd':
        *ranges = kDigit;
        return true;
      case 'D':
        *ranges = ComplementRanges(kDigit);
        return true;
      case 'w':
        *ranges = kWord;
        return true;
      case 'W':
        *ranges = ComplementRanges(kWord);
        return true;
      case 's':
        *ranges = kSpace;
        return true;
      case 'S':
        *ranges = ComplementRanges(kSpace);
        return true;
      case 'n':
        *cp = '\n';
        return false;
      case 't':
        *cp = '\t';
        return false;
      case 'r':
        *cp = '\r';
        return false;
      case 'f':
        *cp = '\f';
        return false;
      case 'v':
        *cp = '\v';
        return false;
      case '0':
        *cp = 0;
        return false;
      case 'x':
        *cp = ParseHexDigits(2);
        return false;
      case 'u':
        *cp = ParseHexDigits(4);
        return false;
      case 'b':
      case 'B':
        --pos_;
        Fail(std::string("word boundaries (\\") + e + ") are not supported");
      case 'p':
      case 'P':
        --pos_;
        Fail("Unicode property classes (\\p, \\P) are not supported");
      default:
        if (e >= '1' && e <= '9') {
          --pos_;
          Fail("backreferences are not supported");
        }
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z')) {
          --pos_;
          Fail(std::string("unknown escape \\") + e);
        }
        --pos_;
        *cp = NextCodePoint();
        return false;
    }
  }

  // Characters a JSON string can hold unescaped.
  Ranges JsonSafe(Ranges ranges) const {
    if (!json_string_) return ranges;
    Ranges unsafe = {{0, 0x1F}, {'"', '"'}, {'\\', '\\'}};
    Ranges out;
    for (const auto& r : ComplementRanges(unsafe)) {
      for (const auto& s : NormalizeRanges(ranges)) {
        const uint32_t lo = std::max(r.first, s.first), hi = std::min(r.second, s.second);
        if (lo <= hi) out.emplace_back(lo, hi);
      }
    }
    if (out.empty()) Fail("the class holds only characters a JSON string must escape");
    return out;
  }

  std::string Literal(uint32_t cp) const {
    std::string bytes;
    if (json_string_ && (cp < 0x20 || cp == '"' || cp == '\\')) {
      switch (cp) {
        case '"':
          bytes = "\\\"";
          break;
        case '\\':
          bytes = "\\\\";
          break;
        case '\n':
          bytes = "\\n";
          break;
        case '\t':
          bytes = "\\t";
          break;
        case '\r':
          bytes = "\\r";
          break;
        default:
          bytes = "\\u" + Hex(cp, 4);
      }
    } else {
      AppendUtf8(cp, &bytes);
    }
    return GbnfLiteral(bytes);
  }

  std::string ParseClass() {
    ++pos_;  // '['
    const bool negated = Peek() == '^';
    if (negated) ++pos_;
    Ranges ranges;
    bool first = true;
    while (AtEnd() || Peek() != ']' || first) {
      if (AtEnd()) Fail("unterminated character class");
      first = false;
      if (Peek() == '[' && Peek(1) == ':') Fail("POSIX classes ([:alpha:]) are not supported");
      uint32_t lo;
      if (Peek() == '\\') {
        ++pos_;
        Ranges cls;
        if (ParseEscape(&cls, &lo)) {
          ranges.insert(ranges.end(), cls.begin(), cls.end());
          continue;
        }
      } else {
        lo = NextCodePoint();
      }
      uint32_t hi = lo;
      if (Peek() == '-' && Peek(1) != ']' && pos_ + 1 < src_.size()) {
        ++pos_;
        if (Peek() == '\\') {
          ++pos_;
          Ranges cls;
          if (ParseEscape(&cls, &hi)) Fail("a class escape cannot end a range");
        } else {
          hi = NextCodePoint();
        }
        if (hi < lo) Fail("character range is out of order");
      }
      ranges.emplace_back(lo, hi);
    }
    ++pos_;
    return GbnfClass(JsonSafe(negated ? ComplementRanges(ranges) : ranges));
  }

  std::string ParseAtom(int depth) {
    const char c = Peek();
    switch (c) {
      case '(': {
        ++pos_;
        if (Peek() == '?') {
          if (Peek(1) == ':') {
            pos_ += 2;
          } else if (Peek(1) == '<' && Peek(2) != '=' && Peek(2) != '!') {
            while (!AtEnd() && Peek() != '>') ++pos_;
            ++pos_;
          } else if (Peek(1) == 'P' && Peek(2) == '<') {
            while (!AtEnd() && Peek() != '>') ++pos_;
            ++pos_;
          } else if (Peek(1) == '=' || Peek(1) == '!' || Peek(1) == '<') {
            Fail("lookaround assertions are not supported");
          } else {
            Fail("inline flags and other (?...) groups are not supported");
          }
        }
        std::string inner = ParseAlternatives(depth + 1);
        if (Peek() != ')' || AtEnd()) Fail("missing ')'");
        ++pos_;
        return inner;
      }
      case ')':
        Fail("unmatched ')'");
      case '[':
        return ParseClass();
      case '.':
        ++pos_;
        return GbnfClass(JsonSafe(ComplementRanges({{'\n', '\n'}})));
      case '*':
      case '+':
      case '?':
        Fail(std::string("'") + c + "' with nothing before it to repeat");
      case '^':
        Fail("'^' is supported only at the start of the pattern");
      case '$':
        Fail("'$' is supported only at the end of the pattern");
      case '\\': {
        ++pos_;
        Ranges cls;
        uint32_t cp;
        if (ParseEscape(&cls, &cp)) return GbnfClass(JsonSafe(cls));
        return Literal(cp);
      }
      default:
        return Literal(NextCodePoint());
    }
  }

  std::string_view src_;
  bool json_string_;
  size_t pos_ = 0;
};

}  // namespace

Result<std::string> RegexToGbnf(std::string_view pattern, bool json_string) {
  if (pattern.size() > GrammarLimits::kMaxRegexBytes) {
    return InvalidArgument("the regular expression is " + std::to_string(pattern.size()) +
                           " bytes, above the limit of " +
                           std::to_string(GrammarLimits::kMaxRegexBytes));
  }
  try {
    return RegexParser(pattern, json_string).Parse();
  } catch (const RegexError& e) {
    return InvalidArgument("invalid regular expression: " + std::string(e.what()));
  }
}

}  // namespace lantern::grammar
