// llama.cpp's GBNF, parsed straight into the byte-level flat grammar.
#include <map>
#include <stdexcept>
#include <string>

#include "grammar/grammar_ir.h"
#include "grammar/utf8_ranges.h"

namespace lantern::grammar {
namespace {

class GbnfError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Parser {
 public:
  explicit Parser(std::string_view src) : src_(src) {}

  GrammarIr Parse() {
    SkipSpace(true);
    while (pos_ < src_.size()) {
      ParseRule();
      SkipSpace(true);
    }
    auto root = symbols_.find("root");
    if (root == symbols_.end()) throw GbnfError("the grammar has no 'root' rule");
    for (const auto& [name, id] : symbols_) {
      if (!defined_[id]) throw GbnfError("rule '" + name + "' is used but never defined");
    }
    return Flatten(root->second);
  }

 private:
  [[noreturn]] void Fail(const std::string& what) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < pos_ && i < src_.size(); ++i) {
      if (src_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    throw GbnfError(what + " at line " + std::to_string(line) + ", column " + std::to_string(col));
  }

  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0';
  }

  // Whitespace and comments; newlines only when `newlines` (inside parentheses, after
  // '|', between rules).
  void SkipSpace(bool newlines) {
    while (pos_ < src_.size()) {
      const char c = src_[pos_];
      if (c == ' ' || c == '\t' || ((c == '\n' || c == '\r') && newlines)) {
        ++pos_;
      } else if (c == '#') {
        while (pos_ < src_.size() && src_[pos_] != '\n') ++pos_;
      } else {
        break;
      }
    }
  }

  std::string ParseName() {
    const size_t start = pos_;
    while (pos_ < src_.size() && IsWordChar(src_[pos_])) ++pos_;
    if (pos_ == start) Fail("expected a rule name");
    return std::string(src_.substr(start, pos_ - start));
  }

  uint32_t Symbol(const std::string& name) {
    auto [it, inserted] = symbols_.emplace(name, static_cast<uint32_t>(rules_.size()));
    if (inserted) {
      rules_.emplace_back();
      names_.push_back(name);
      defined_.push_back(false);
    }
    return it->second;
  }

  uint32_t NewRule(const std::string& base) {
    std::string name;
    do {
      name = base + "-" + std::to_string(++generated_);
    } while (symbols_.count(name));
    const uint32_t id = Symbol(name);
    defined_[id] = true;
    return id;
  }

  void CountElements(size_t n) {
    total_elements_ += n;
    if (total_elements_ > GrammarLimits::kMaxElements) {
      Fail("the grammar is too large (more than " + std::to_string(GrammarLimits::kMaxElements) +
           " elements once repetitions are expanded)");
    }
  }

  void SetRule(uint32_t id, std::vector<Element> elements) {
    CountElements(elements.size());
    rules_[id] = std::move(elements);
  }

  void ParseRule() {
    const std::string name = ParseName();
    SkipSpace(false);
    if (src_.substr(pos_, 3) != "::=") Fail("expected '::=' after rule name '" + name + "'");
    pos_ += 3;
    SkipSpace(true);
    const uint32_t id = Symbol(name);
    if (defined_[id]) Fail("rule '" + name + "' is defined twice");
    defined_[id] = true;
    SetRule(id, ParseAlternatives(name, false, 0));
    if (pos_ < src_.size() && src_[pos_] != '\n' && src_[pos_] != '\r') {
      Fail(std::string("unexpected '") + src_[pos_] + "'");
    }
  }

  std::vector<Element> ParseAlternatives(const std::string& name, bool nested, int depth) {
    if (depth > GrammarLimits::kMaxNesting) Fail("parentheses nest too deeply");
    std::vector<Element> out;
    ParseSequence(name, nested, depth, &out);
    while (Peek() == '|') {
      ++pos_;
      SkipSpace(true);
      out.push_back({ElementType::kAlt, 0});
      ParseSequence(name, nested, depth, &out);
    }
    out.push_back({ElementType::kEnd, 0});
    return out;
  }

  uint32_t DecodeChar() {
    if (pos_ >= src_.size()) Fail("unexpected end of the grammar");
    const auto b0 = static_cast<unsigned char>(src_[pos_]);
    if (b0 == '\\') {
      ++pos_;
      const char e = Peek();
      ++pos_;
      switch (e) {
        case 'x':
          return ParseHex(2);
        case 'u':
          return ParseHex(4);
        case 'U':
          return ParseHex(8);
        case 't':
          return '\t';
        case 'r':
          return '\r';
        case 'n':
          return '\n';
        case '\\':
        case '"':
        case '[':
        case ']':
        case '-':
        case '^':
        case '/':
          return static_cast<unsigned char>(e);
        default:
          --pos_;
          Fail(std::string("unknown escape '\\") + e + "'");
      }
    }
    int len = b0 < 0x80 ? 1 : b0 >= 0xF0 ? 4 : b0 >= 0xE0 ? 3 : b0 >= 0xC0 ? 2 : 0;
    if (len == 0 || pos_ + len > src_.size()) Fail("invalid UTF-8");
    uint32_t cp = len == 1 ? b0 : len == 2 ? b0 & 0x1F : len == 3 ? b0 & 0x0F : b0 & 0x07;
    for (int i = 1; i < len; ++i) {
      const auto b = static_cast<unsigned char>(src_[pos_ + i]);
      if ((b & 0xC0) != 0x80) Fail("invalid UTF-8");
      cp = (cp << 6) | (b & 0x3F);
    }
    pos_ += len;
    return cp;
  }

  uint32_t ParseHex(int digits) {
    uint32_t v = 0;
    for (int i = 0; i < digits; ++i) {
      const int h = HexValue(Peek());
      if (h < 0) Fail("expected " + std::to_string(digits) + " hex digits");
      v = v * 16 + h;
      ++pos_;
    }
    if (v > kMaxCodePoint) Fail("code point beyond U+10FFFF");
    return v;
  }

  uint32_t ByteSetIndex(const ByteSet& set) {
    byte_sets_.push_back(set);
    return static_cast<uint32_t>(byte_sets_.size() - 1);
  }

  void EmitByte(uint8_t b, std::vector<Element>* out) {
    ByteSet s;
    s.set(b);
    out->push_back({ElementType::kBytes, ByteSetIndex(s)});
  }

  // Code point ranges as elements: one byte set when all are ASCII, else a rule of UTF-8
  // alternatives.
  void EmitRanges(const std::vector<CodePointRange>& ranges, const std::string& name,
                  std::vector<Element>* out) {
    const auto seqs = Utf8Sequences(ranges);
    if (seqs.empty()) Fail("empty character class");
    ByteSet single;
    std::vector<Element> rule;
    bool multi = false;
    for (const auto& seq : seqs) {
      if (seq.size() == 1) {
        for (int b = seq[0].first; b <= seq[0].second; ++b) single.set(b);
      } else {
        multi = true;
      }
    }
    if (!multi) {
      out->push_back({ElementType::kBytes, ByteSetIndex(single)});
      return;
    }
    if (single.any()) {
      rule.push_back({ElementType::kBytes, ByteSetIndex(single)});
      rule.push_back({ElementType::kAlt, 0});
    }
    for (const auto& seq : seqs) {
      if (seq.size() == 1) continue;
      for (const auto& [lo, hi] : seq) {
        ByteSet s;
        for (int b = lo; b <= hi; ++b) s.set(b);
        rule.push_back({ElementType::kBytes, ByteSetIndex(s)});
      }
      rule.push_back({ElementType::kAlt, 0});
    }
    rule.back().type = ElementType::kEnd;
    const uint32_t id = NewRule(name + "-char");
    SetRule(id, std::move(rule));
    out->push_back({ElementType::kRuleRef, id});
  }

  void ParseSequence(const std::string& name, bool nested, int depth, std::vector<Element>* out) {
    size_t last_start = out->size();
    bool have_last = false;
    while (pos_ < src_.size()) {
      const char c = src_[pos_];
      if (c == '"') {
        ++pos_;
        last_start = out->size();
        have_last = true;
        while (Peek() != '"') {
          if (pos_ >= src_.size()) Fail("unterminated literal");
          std::string bytes;
          AppendUtf8(DecodeChar(), &bytes);
          for (char b : bytes) EmitByte(static_cast<uint8_t>(b), out);
        }
        ++pos_;
      } else if (c == '[') {
        ++pos_;
        last_start = out->size();
        have_last = true;
        const bool negated = Peek() == '^';
        if (negated) ++pos_;
        std::vector<CodePointRange> ranges;
        while (Peek() != ']') {
          if (pos_ >= src_.size()) Fail("unterminated character class");
          const uint32_t lo = DecodeChar();
          uint32_t hi = lo;
          if (Peek() == '-' && Peek(1) != ']' && pos_ + 1 < src_.size()) {
            ++pos_;
            hi = DecodeChar();
            if (hi < lo) Fail("character range is out of order");
          }
          ranges.emplace_back(lo, hi);
        }
        ++pos_;
        EmitRanges(negated ? ComplementRanges(ranges) : ranges, name, out);
      } else if (c == '.') {
        ++pos_;
        last_start = out->size();
        have_last = true;
        EmitRanges({{0, kMaxCodePoint}}, name, out);
      } else if (IsWordChar(c)) {
        last_start = out->size();
        have_last = true;
        out->push_back({ElementType::kRuleRef, Symbol(ParseName())});
      } else if (c == '(') {
        ++pos_;
        SkipSpace(true);
        last_start = out->size();
        have_last = true;
        const uint32_t id = NewRule(name);
        SetRule(id, ParseAlternatives(name, true, depth + 1));
        if (Peek() != ')') Fail("expected ')'");
        ++pos_;
        out->push_back({ElementType::kRuleRef, id});
      } else if (c == '*' || c == '+' || c == '?' || c == '{') {
        if (!have_last) Fail(std::string("'") + c + "' with nothing before it to repeat");
        int min = 0, max = -1;
        ++pos_;
        if (c == '+') {
          min = 1;
        } else if (c == '?') {
          max = 1;
        } else if (c == '{') {
          SkipSpace(nested);
          min = ParseCount();
          SkipSpace(nested);
          if (Peek() == ',') {
            ++pos_;
            SkipSpace(nested);
            max = Peek() == '}' ? -1 : ParseCount();
          } else {
            max = min;
          }
          SkipSpace(nested);
          if (Peek() != '}') Fail("expected '}'");
          ++pos_;
          if (max >= 0 && max < min) Fail("repetition {m,n} with n < m");
        }
        Repeat(name, last_start, min, max, out);
        have_last = false;
      } else {
        break;
      }
      SkipSpace(nested);
    }
  }

  int ParseCount() {
    const size_t start = pos_;
    int64_t v = 0;
    while (Peek() >= '0' && Peek() <= '9') {
      v = v * 10 + (Peek() - '0');
      if (v > GrammarLimits::kMaxRepetition) {
        Fail("repetition count above the limit of " +
             std::to_string(GrammarLimits::kMaxRepetition));
      }
      ++pos_;
    }
    if (pos_ == start) Fail("expected a repetition count");
    return static_cast<int>(v);
  }

  // Rewrites out[last_start..] (one item) as the item repeated min..max times (max -1:
  // unbounded), through right-recursive helper rules.
  void Repeat(const std::string& name, size_t last_start, int min, int max,
              std::vector<Element>* out) {
    std::vector<Element> item(out->begin() + last_start, out->end());
    out->resize(last_start);
    if (item.empty()) return;  // "" repeated is still ""
    if (item.size() > 1) {
      const uint32_t id = NewRule(name);
      item.push_back({ElementType::kEnd, 0});
      SetRule(id, std::move(item));
      item = {{ElementType::kRuleRef, id}};
    }
    CountElements(static_cast<size_t>(min) + (max < 0 ? 4 : 3 * (max - min)));
    for (int i = 0; i < min; ++i) out->push_back(item[0]);
    if (max < 0) {
      // star ::= item star |
      const uint32_t id = NewRule(name);
      rules_[id] = {item[0],
                    {ElementType::kRuleRef, id},
                    {ElementType::kAlt, 0},
                    {ElementType::kEnd, 0}};
      out->push_back({ElementType::kRuleRef, id});
      return;
    }
    // opt_k ::= item opt_{k-1} | ; opt_1 ::= item |
    uint32_t previous = UINT32_MAX;
    for (int k = 1; k <= max - min; ++k) {
      const uint32_t id = NewRule(name);
      std::vector<Element> rule = {item[0]};
      if (previous != UINT32_MAX) rule.push_back({ElementType::kRuleRef, previous});
      rule.push_back({ElementType::kAlt, 0});
      rule.push_back({ElementType::kEnd, 0});
      rules_[id] = std::move(rule);
      previous = id;
    }
    if (previous != UINT32_MAX) out->push_back({ElementType::kRuleRef, previous});
  }

  GrammarIr Flatten(uint32_t root) {
    GrammarIr ir;
    ir.root = root;
    ir.rule_names = names_;
    ir.byte_sets = std::move(byte_sets_);
    for (const auto& rule : rules_) {
      ir.rule_start.push_back(static_cast<uint32_t>(ir.elements.size()));
      ir.elements.insert(ir.elements.end(), rule.begin(), rule.end());
    }
    return ir;
  }

  std::string_view src_;
  size_t pos_ = 0;
  std::map<std::string, uint32_t> symbols_;
  std::vector<std::vector<Element>> rules_;
  std::vector<std::string> names_;
  std::vector<bool> defined_;
  std::vector<ByteSet> byte_sets_;
  int generated_ = 0;
  size_t total_elements_ = 0;
};

// A rule that can reach itself without consuming a byte would expand forever.
Status CheckLeftRecursion(const GrammarIr& ir) {
  const size_t n = ir.rule_start.size();
  std::vector<bool> nullable(n, false);
  for (bool changed = true; changed;) {
    changed = false;
    for (uint32_t r = 0; r < n; ++r) {
      if (nullable[r]) continue;
      for (uint32_t pos : ir.AlternativeStarts(r)) {
        bool all = true;
        for (uint32_t p = pos; !ir.IsEndOfAlternative(p); ++p) {
          const Element& e = ir.elements[p];
          if (e.type == ElementType::kBytes || !nullable[e.value]) {
            all = false;
            break;
          }
        }
        if (all) {
          nullable[r] = true;
          changed = true;
          break;
        }
      }
    }
  }
  std::vector<std::vector<uint32_t>> left(n);
  for (uint32_t r = 0; r < n; ++r) {
    for (uint32_t pos : ir.AlternativeStarts(r)) {
      for (uint32_t p = pos; !ir.IsEndOfAlternative(p); ++p) {
        const Element& e = ir.elements[p];
        if (e.type == ElementType::kBytes) break;
        left[r].push_back(e.value);
        if (!nullable[e.value]) break;
      }
    }
  }
  // Iterative DFS for a cycle (0 unvisited, 1 on the path, 2 done).
  std::vector<uint8_t> mark(n, 0);
  for (uint32_t start = 0; start < n; ++start) {
    if (mark[start]) continue;
    std::vector<std::pair<uint32_t, size_t>> path = {{start, 0}};
    mark[start] = 1;
    while (!path.empty()) {
      auto& [r, next] = path.back();
      if (next == left[r].size()) {
        mark[r] = 2;
        path.pop_back();
        continue;
      }
      const uint32_t to = left[r][next++];
      if (mark[to] == 1) {
        return InvalidArgument("rule '" + ir.rule_names[to] +
                               "' is left-recursive (it can reach itself before reading a "
                               "character)");
      }
      if (mark[to] == 0) {
        mark[to] = 1;
        path.emplace_back(to, 0);
      }
    }
  }
  return Status::Ok();
}

}  // namespace

std::vector<uint32_t> GrammarIr::AlternativeStarts(uint32_t rule) const {
  std::vector<uint32_t> starts = {rule_start[rule]};
  for (uint32_t p = rule_start[rule]; elements[p].type != ElementType::kEnd; ++p) {
    if (elements[p].type == ElementType::kAlt) starts.push_back(p + 1);
  }
  return starts;
}

Result<GrammarIr> ParseGbnf(std::string_view text) {
  if (text.size() > GrammarLimits::kMaxSourceBytes) {
    return InvalidArgument("the grammar is " + std::to_string(text.size()) +
                           " bytes, above the limit of " +
                           std::to_string(GrammarLimits::kMaxSourceBytes));
  }
  GrammarIr ir;
  try {
    ir = Parser(text).Parse();
  } catch (const GbnfError& e) {
    return InvalidArgument(std::string("invalid grammar: ") + e.what());
  }
  LANTERN_RETURN_IF_ERROR(CheckLeftRecursion(ir));
  return ir;
}

std::string GbnfLiteral(std::string_view bytes) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out = "\"";
  for (char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;  // UTF-8 passes through as itself
    }
  }
  return out + "\"";
}

}  // namespace lantern::grammar
