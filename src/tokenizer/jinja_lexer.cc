#include "tokenizer/jinja_lexer.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "tokenizer/jinja_text.h"

namespace lantern::jinja {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || IsDigit(c); }

// Python Jinja reads templates with "\r\n" and "\r" line ends as "\n" everywhere.
std::string NormalizeNewlines(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] != '\r') {
      out.push_back(source[i]);
      continue;
    }
    out.push_back('\n');
    if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
  }
  return out;
}

class Lexer {
 public:
  Lexer(std::string_view source, const LexOptions& options)
      : normalized_(NormalizeNewlines(source)), src_(normalized_), options_(options) {
    if (!options.keep_trailing_newline && !src_.empty() && src_.back() == '\n') {
      src_.remove_suffix(1);
    }
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i) {
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  std::vector<Token> Run() {
    size_t i = 0;
    while (i < src_.size()) {
      size_t tag = FindTag(i);
      std::string text(src_.substr(i, tag - i));
      if (tag == src_.size()) {
        EmitText(std::move(text), i);
        break;
      }
      char kind = src_[tag + 1];
      char marker = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
      if (marker == '-') {
        text.erase(std::find_if_not(text.rbegin(), text.rend(), IsSpace).base(), text.end());
      } else if (options_.lstrip_blocks && kind != '{' && marker != '+') {
        LstripLine(&text, i);
      }
      EmitText(std::move(text), i);
      size_t body = tag + 2 + (marker == '-' || marker == '+' ? 1 : 0);
      if (kind == '#') {
        i = LexComment(tag, body);
      } else if (kind == '%' && IsRawBlock(body)) {
        i = LexRaw(tag, body);
      } else {
        i = LexTag(kind == '%', tag, body);
      }
    }
    tokens_.push_back(Token{TokenType::kEnd, "", Pos(src_.size())});
    return std::move(tokens_);
  }

 private:
  SourcePos Pos(size_t offset) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    size_t line = static_cast<size_t>(it - line_starts_.begin());
    return SourcePos{static_cast<int>(line), static_cast<int>(offset - line_starts_[line - 1] + 1)};
  }

  [[noreturn]] void Fail(const std::string& message, size_t offset) const {
    throw Error(Error::Kind::kSyntax, message, Pos(offset));
  }

  size_t FindTag(size_t from) const {
    for (size_t i = from; i + 1 < src_.size(); ++i) {
      if (src_[i] == '{' && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) {
        return i;
      }
    }
    return src_.size();
  }

  // lstrip_blocks: drop spaces and tabs between the start of the line and a block tag.
  void LstripLine(std::string* text, size_t text_start) const {
    size_t line_start = text->rfind('\n');
    if (line_start == std::string::npos) {
      if (text_start != 0 && src_[text_start - 1] != '\n') return;
      line_start = 0;
    } else {
      ++line_start;
    }
    for (size_t k = line_start; k < text->size(); ++k) {
      if ((*text)[k] != ' ' && (*text)[k] != '\t') return;
    }
    text->resize(line_start);
  }

  void EmitText(std::string text, size_t offset) {
    if (!text.empty()) tokens_.push_back(Token{TokenType::kText, std::move(text), Pos(offset)});
  }

  // After a tag: `-` strips all following whitespace, trim_blocks one newline after %} or #}.
  size_t AfterTagEnd(size_t end, bool strip, bool is_block) const {
    if (strip) {
      while (end < src_.size() && IsSpace(src_[end])) ++end;
    } else if (is_block && options_.trim_blocks && end < src_.size() && src_[end] == '\n') {
      ++end;
    }
    return end;
  }

  size_t LexComment(size_t tag, size_t body) {
    size_t close = src_.find("#}", body);
    if (close == std::string_view::npos) Fail("unterminated comment", tag);
    bool strip = close > body && src_[close - 1] == '-';
    return AfterTagEnd(close + 2, strip, true);
  }

  bool IsRawBlock(size_t body) const {
    while (body < src_.size() && IsSpace(src_[body])) ++body;
    if (src_.substr(body, 3) != "raw") return false;
    body += 3;
    return body < src_.size() && (IsSpace(src_[body]) || src_[body] == '-' || src_[body] == '%');
  }

  // {% raw %}...{% endraw %}: the body is text, tags inside it are not interpreted.
  size_t LexRaw(size_t tag, size_t body) {
    size_t open_end = src_.find("%}", body);
    if (open_end == std::string_view::npos) Fail("unterminated raw block", tag);
    bool strip_after_open = src_[open_end - 1] == '-';
    size_t content = AfterTagEnd(open_end + 2, strip_after_open, true);
    for (size_t k = src_.find("{%", content); k != std::string_view::npos;
         k = src_.find("{%", k + 2)) {
      size_t p = k + 2 + (k + 2 < src_.size() && (src_[k + 2] == '-' || src_[k + 2] == '+'));
      while (p < src_.size() && IsSpace(src_[p])) ++p;
      if (src_.substr(p, 6) != "endraw") continue;
      size_t close = src_.find("%}", p);
      if (close == std::string_view::npos) break;
      std::string text(src_.substr(content, k - content));
      if (src_[k + 2] == '-') {
        text.erase(std::find_if_not(text.rbegin(), text.rend(), IsSpace).base(), text.end());
      }
      EmitText(std::move(text), content);
      return AfterTagEnd(close + 2, src_[close - 1] == '-', true);
    }
    Fail("missing {% endraw %}", tag);
  }

  size_t LexTag(bool is_block, size_t tag, size_t i) {
    tokens_.push_back(
        Token{is_block ? TokenType::kBlockBegin : TokenType::kVarBegin, "", Pos(tag)});
    int depth = 0;  // open brackets; "}}" inside a dict literal does not end the tag
    while (true) {
      while (i < src_.size() && IsSpace(src_[i])) ++i;
      if (i >= src_.size()) {
        Fail(is_block ? "unexpected end of template, expected '%}'"
                      : "unexpected end of template, expected '}}'",
             tag);
      }
      std::string_view rest = src_.substr(i);
      const char* close = is_block ? "%}" : "}}";
      bool strip = rest.size() >= 3 && rest[0] == '-' && rest.substr(1, 2) == close;
      if (depth == 0 && (strip || rest.substr(0, 2) == close)) {
        tokens_.push_back(Token{is_block ? TokenType::kBlockEnd : TokenType::kVarEnd, "", Pos(i)});
        return AfterTagEnd(i + (strip ? 3 : 2), strip, is_block);
      }
      i = LexExpressionToken(i, &depth);
    }
  }

  size_t LexExpressionToken(size_t i, int* depth) {
    char c = src_[i];
    if (c == '\'' || c == '"') return LexString(i);
    bool after_dot = !tokens_.empty() && tokens_.back().type == TokenType::kOperator &&
                     tokens_.back().text == ".";
    if (IsDigit(c)) return LexNumber(i, after_dot);
    if (IsNameStart(c)) {
      size_t j = i;
      while (j < src_.size() && IsNameChar(src_[j])) ++j;
      tokens_.push_back(Token{TokenType::kName, std::string(src_.substr(i, j - i)), Pos(i)});
      return j;
    }
    static constexpr std::string_view kTwoChar[] = {"**", "//", "==", "!=", "<=", ">="};
    for (std::string_view op : kTwoChar) {
      if (src_.substr(i, 2) == op) {
        tokens_.push_back(Token{TokenType::kOperator, std::string(op), Pos(i)});
        return i + 2;
      }
    }
    if (std::string_view("+-*/%~<>=.,:|()[]{}").find(c) == std::string_view::npos) {
      Fail(std::string("unexpected character '") + c + "'", i);
    }
    if (c == '(' || c == '[' || c == '{') ++*depth;
    if (c == ')' || c == ']' || c == '}') *depth = std::max(0, *depth - 1);
    tokens_.push_back(Token{TokenType::kOperator, std::string(1, c), Pos(i)});
    return i + 1;
  }

  size_t LexNumber(size_t i, bool integer_only) {
    size_t j = i;
    auto digits = [&] {
      while (j < src_.size() && (IsDigit(src_[j]) || src_[j] == '_')) ++j;
    };
    digits();
    bool is_float = false;
    if (!integer_only && j + 1 < src_.size() && src_[j] == '.' && IsDigit(src_[j + 1])) {
      ++j;
      digits();
      is_float = true;
    }
    if (!integer_only && j < src_.size() && (src_[j] == 'e' || src_[j] == 'E')) {
      size_t k = j + 1 + (j + 1 < src_.size() && (src_[j + 1] == '+' || src_[j + 1] == '-'));
      if (k < src_.size() && IsDigit(src_[k])) {
        j = k;
        digits();
        is_float = true;
      }
    }
    std::string text(src_.substr(i, j - i));
    text.erase(std::remove(text.begin(), text.end(), '_'), text.end());
    Token token{is_float ? TokenType::kFloat : TokenType::kInteger, text, Pos(i)};
    errno = 0;
    if (is_float) {
      token.float_value = std::strtod(text.c_str(), nullptr);
    } else {
      token.int_value = std::strtoll(text.c_str(), nullptr, 10);
      if (errno == ERANGE) Fail("integer literal out of range: " + text, i);
    }
    tokens_.push_back(std::move(token));
    return j;
  }

  size_t LexString(size_t i);

  std::string normalized_;
  std::string_view src_;
  LexOptions options_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
};

int HexValue(char c) {
  if (IsDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A quoted literal with Python's escapes; unknown escapes keep their backslash as Python does.
size_t Lexer::LexString(size_t i) {
  char quote = src_[i];
  std::string value;
  size_t j = i + 1;
  while (true) {
    if (j >= src_.size()) Fail("unterminated string literal", i);
    char c = src_[j];
    if (c == quote) break;
    if (c != '\\' || j + 1 >= src_.size()) {
      value.push_back(c);
      ++j;
      continue;
    }
    char e = src_[j + 1];
    j += 2;
    switch (e) {
      case 'n':
        value.push_back('\n');
        break;
      case 't':
        value.push_back('\t');
        break;
      case 'r':
        value.push_back('\r');
        break;
      case 'b':
        value.push_back('\b');
        break;
      case 'f':
        value.push_back('\f');
        break;
      case 'v':
        value.push_back('\v');
        break;
      case 'a':
        value.push_back('\a');
        break;
      case '0':
        value.push_back('\0');
        break;
      case '\\':
        value.push_back('\\');
        break;
      case '\'':
        value.push_back('\'');
        break;
      case '"':
        value.push_back('"');
        break;
      case '\n':
        break;  // line continuation
      case 'x':
      case 'u':
      case 'U': {
        size_t len = e == 'x' ? 2 : (e == 'u' ? 4 : 8);
        uint32_t cp = 0;
        for (size_t k = 0; k < len; ++k) {
          int h = j + k < src_.size() ? HexValue(src_[j + k]) : -1;
          if (h < 0) Fail(std::string("invalid \\") + e + " escape in string literal", j - 2);
          cp = cp * 16 + static_cast<uint32_t>(h);
        }
        if (cp > 0x10FFFF) Fail("invalid code point in string literal", j - 2);
        AppendUtf8(cp, &value);
        j += len;
        break;
      }
      default:
        value.push_back('\\');
        value.push_back(e);
    }
  }
  tokens_.push_back(Token{TokenType::kString, std::move(value), Pos(i)});
  return j + 1;
}

}  // namespace

std::vector<Token> Tokenize(std::string_view source, const LexOptions& options) {
  return Lexer(source, options).Run();
}

}  // namespace lantern::jinja
