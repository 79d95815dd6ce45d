// The compiled form every grammar kind ends in: a byte-level context-free grammar whose
// rules are alternatives of element sequences, laid out flat as llama.cpp lays out GBNF
// (a position is an index into `elements`). Internal to the grammar module.
#pragma once

#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace lantern::grammar {

enum class ElementType : uint8_t {
  kEnd,      // end of the rule's last alternative
  kAlt,      // end of an alternative; the next one starts after it
  kRuleRef,  // value: rule index
  kBytes,    // value: index into byte_sets
};

struct Element {
  ElementType type = ElementType::kEnd;
  uint32_t value = 0;
};

using ByteSet = std::bitset<256>;

struct GrammarIr {
  std::vector<Element> elements;
  std::vector<uint32_t> rule_start;     // rule -> position of its first alternative
  std::vector<std::string> rule_names;  // for errors
  std::vector<ByteSet> byte_sets;
  uint32_t root = 0;

  bool IsEndOfAlternative(uint32_t pos) const {
    return elements[pos].type == ElementType::kEnd || elements[pos].type == ElementType::kAlt;
  }
  // Positions where each alternative of `rule` starts.
  std::vector<uint32_t> AlternativeStarts(uint32_t rule) const;
};

// Limits on what a request can make us build (bounded work on hostile input).
struct GrammarLimits {
  static constexpr size_t kMaxSourceBytes = 1 << 20;      // GBNF / regex / schema text
  static constexpr size_t kMaxElements = 1 << 20;         // compiled grammar size
  static constexpr int kMaxRepetition = 4096;             // x{m,n}: n
  static constexpr int kMaxNesting = 128;                 // parentheses, schema depth
  static constexpr size_t kMaxRegexBytes = 16 * 1024;     // one regular expression
};

// Parses llama.cpp's GBNF (rules `name ::= ...`, "literals", [classes], `.`, groups,
// `|`, `*` `+` `?` `{m}` `{m,}` `{m,n}`, `#` comments) into a byte-level grammar whose
// start rule is `root`. Code points become their UTF-8 bytes. Checks that every rule
// referenced is defined and that no rule is left-recursive.
Result<GrammarIr> ParseGbnf(std::string_view text);

// GBNF literal for `bytes` ("..." with escapes).
std::string GbnfLiteral(std::string_view bytes);

}  // namespace lantern::grammar
