// Splits a template into text and the tokens inside {{ }} / {% %} tags, applying Jinja's
// whitespace control: `{%-`/`-%}` markers, trim_blocks, lstrip_blocks and the dropped trailing
// newline (the environment transformers' apply_chat_template uses).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/jinja_error.h"

namespace lantern::jinja {

enum class TokenType {
  kText,
  kBlockBegin,  // {%
  kBlockEnd,    // %}
  kVarBegin,    // {{
  kVarEnd,      // }}
  kName,
  kString,  // text holds the unescaped value
  kInteger,
  kFloat,
  kOperator,  // text holds the operator: "+", "//", "(", ...
  kEnd,
};

struct Token {
  TokenType type = TokenType::kEnd;
  std::string text;
  SourcePos pos;
  int64_t int_value = 0;
  double float_value = 0;
};

struct LexOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  bool keep_trailing_newline = false;
};

// Throws jinja::Error (kSyntax) with the position of the offending character.
std::vector<Token> Tokenize(std::string_view source, const LexOptions& options);

}  // namespace lantern::jinja
