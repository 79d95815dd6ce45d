#include "tokenizer/jinja_parser.h"

#include <algorithm>

namespace lantern::jinja {
namespace {

constexpr int kMaxBlockDepth = 200;

std::string Describe(const Token& token) {
  switch (token.type) {
    case TokenType::kText:
      return "template text";
    case TokenType::kBlockBegin:
      return "'{%'";
    case TokenType::kBlockEnd:
      return "'%}'";
    case TokenType::kVarBegin:
      return "'{{'";
    case TokenType::kVarEnd:
      return "'}}'";
    case TokenType::kName:
      return "'" + token.text + "'";
    case TokenType::kString:
      return "string literal";
    case TokenType::kInteger:
    case TokenType::kFloat:
      return "number " + token.text;
    case TokenType::kOperator:
      return "'" + token.text + "'";
    case TokenType::kEnd:
      return "end of template";
  }
  return "token";
}

}  // namespace

Body ParseTemplate(const std::vector<Token>& tokens) { return Parser(tokens).ParseAll(); }

Body Parser::ParseAll() {
  Body body = ParseBody({});
  if (Peek().type != TokenType::kEnd) FailUnexpected("end of template");
  return body;
}

const Token& Parser::Peek(size_t ahead) const {
  return tokens_[std::min(index_ + ahead, tokens_.size() - 1)];
}

const Token& Parser::Next() {
  const Token& token = Peek();
  if (index_ < tokens_.size() - 1) ++index_;
  return token;
}

bool Parser::AtName(std::string_view name, size_t ahead) const {
  return Peek(ahead).type == TokenType::kName && Peek(ahead).text == name;
}

bool Parser::AtOperator(std::string_view op, size_t ahead) const {
  return Peek(ahead).type == TokenType::kOperator && Peek(ahead).text == op;
}

bool Parser::SkipOperator(std::string_view op) {
  if (!AtOperator(op)) return false;
  Next();
  return true;
}

bool Parser::SkipName(std::string_view name) {
  if (!AtName(name)) return false;
  Next();
  return true;
}

void Parser::ExpectOperator(std::string_view op) {
  if (!SkipOperator(op)) FailUnexpected("'" + std::string(op) + "'");
}

std::string Parser::ExpectName(std::string_view what) {
  if (Peek().type != TokenType::kName) FailUnexpected(what);
  return Next().text;
}

void Parser::Fail(const std::string& message, SourcePos pos) const {
  throw Error(Error::Kind::kSyntax, message, pos);
}

void Parser::FailUnexpected(std::string_view expected) const {
  Fail("expected " + std::string(expected) + ", got " + Describe(Peek()), Peek().pos);
}

void Parser::ExpectBlockEnd() {
  if (Peek().type != TokenType::kBlockEnd) FailUnexpected("'%}'");
  Next();
}

void Parser::ExpectEndTag(std::string_view name) {
  if (!SkipName(name)) FailUnexpected("'" + std::string(name) + "'");
  ExpectBlockEnd();
}

// Parses nodes until a block tag named in `end_tags`; stops with that name as the next token.
Body Parser::ParseBody(std::initializer_list<std::string_view> end_tags) {
  if (++block_depth_ > kMaxBlockDepth) Fail("blocks nested too deeply", Peek().pos);
  Body body;
  while (true) {
    const Token& token = Peek();
    if (token.type == TokenType::kEnd) {
      if (end_tags.size() != 0) {
        std::string expected;
        for (std::string_view tag : end_tags) {
          expected += (expected.empty() ? "'" : " or '") + std::string(tag) + "'";
        }
        Fail("unexpected end of template, expected " + expected, token.pos);
      }
      break;
    }
    if (token.type == TokenType::kText) {
      body.push_back(std::make_unique<TextNode>(token.pos, token.text));
      Next();
    } else if (token.type == TokenType::kVarBegin) {
      Next();
      ExprPtr expr = ParseTuple();
      if (Peek().type != TokenType::kVarEnd) FailUnexpected("'}}'");
      Next();
      body.push_back(std::make_unique<OutputNode>(token.pos, std::move(expr)));
    } else if (token.type == TokenType::kBlockBegin) {
      const Token& name = Peek(1);
      if (name.type == TokenType::kName &&
          std::find(end_tags.begin(), end_tags.end(), name.text) != end_tags.end()) {
        Next();  // leave the tag name for the caller
        break;
      }
      Next();
      if (NodePtr node = ParseStatement()) body.push_back(std::move(node));
    } else {
      FailUnexpected("template text or a tag");
    }
  }
  --block_depth_;
  return body;
}

NodePtr Parser::ParseStatement() {
  const Token& token = Peek();
  SourcePos pos = token.pos;
  if (token.type != TokenType::kName) FailUnexpected("a statement name");
  std::string name = Next().text;
  if (name == "if") return ParseIf(pos);
  if (name == "for") return ParseFor(pos);
  if (name == "set") return ParseSet(pos);
  if (name == "macro") return ParseMacro(pos);
  if (name == "break" || name == "continue") {
    if (loop_depth_ == 0) Fail("'" + name + "' outside of a for loop", pos);
    ExpectBlockEnd();
    return std::make_unique<ControlNode>(
        pos, name == "break" ? Node::Kind::kBreak : Node::Kind::kContinue);
  }
  if (name == "do") {
    auto node = std::make_unique<DoNode>(pos, ParseTuple());
    ExpectBlockEnd();
    return node;
  }
  if (name == "filter") {
    auto node = std::make_unique<FilterBlockNode>(pos);
    node->filters = ParseFilterChain(false);
    ExpectBlockEnd();
    node->body = ParseBody({"endfilter"});
    ExpectEndTag("endfilter");
    return node;
  }
  if (name == "generation") {
    // transformers' {% generation %} marks assistant tokens for masking; it renders its body.
    ExpectBlockEnd();
    auto node = std::make_unique<IfNode>(pos);
    node->branches.emplace_back(std::make_unique<LiteralExpr>(pos, Value(true)),
                                ParseBody({"endgeneration"}));
    ExpectEndTag("endgeneration");
    return node;
  }
  Fail("unknown or unsupported tag '" + name + "'", pos);
}

NodePtr Parser::ParseIf(SourcePos pos) {
  auto node = std::make_unique<IfNode>(pos);
  while (true) {
    ExprPtr test = ParseTuple(false);
    ExpectBlockEnd();
    Body body = ParseBody({"elif", "else", "endif"});
    node->branches.emplace_back(std::move(test), std::move(body));
    std::string tag = Next().text;
    if (tag == "elif") continue;
    if (tag == "else") {
      ExpectBlockEnd();
      node->else_body = ParseBody({"endif"});
      ExpectEndTag("endif");
    } else {
      ExpectBlockEnd();
    }
    return node;
  }
}

NodePtr Parser::ParseFor(SourcePos pos) {
  auto node = std::make_unique<ForNode>(pos);
  bool parens = SkipOperator("(");
  do {
    // `for a, (b) in ...`: a parenthesised single name; nested unpacking is not supported.
    bool inner = SkipOperator("(");
    node->targets.push_back(ExpectName("a loop variable name"));
    if (inner) ExpectOperator(")");
  } while (SkipOperator(","));
  if (parens) ExpectOperator(")");
  if (!SkipName("in")) FailUnexpected("'in'");
  node->iterable = ParseTuple(false);
  if (SkipName("if")) node->filter = ParseExpression();
  if (AtName("recursive")) Fail("recursive loops are not supported", Peek().pos);
  ExpectBlockEnd();
  ++loop_depth_;
  node->body = ParseBody({"else", "endfor"});
  --loop_depth_;
  if (Next().text == "else") {
    ExpectBlockEnd();
    node->else_body = ParseBody({"endfor"});
    ExpectEndTag("endfor");
  } else {
    ExpectBlockEnd();
  }
  return node;
}

AssignTarget Parser::ParseAssignTarget() {
  AssignTarget target;
  SourcePos pos = Peek().pos;
  std::string first = ExpectName("a variable name");
  if (SkipOperator(".")) {
    target.object = std::make_unique<NameExpr>(pos, first);
    target.attr = ExpectName("an attribute name");
    return target;
  }
  target.names.push_back(first);
  while (SkipOperator(",")) target.names.push_back(ExpectName("a variable name"));
  return target;
}

NodePtr Parser::ParseSet(SourcePos pos) {
  AssignTarget target = ParseAssignTarget();
  if (SkipOperator("=")) {
    auto node = std::make_unique<SetNode>(pos);
    node->target = std::move(target);
    node->value = ParseTuple();
    ExpectBlockEnd();
    return node;
  }
  auto node = std::make_unique<SetBlockNode>(pos);
  node->target = std::move(target);
  if (AtOperator("|")) node->filters = ParseFilterChain(true);
  ExpectBlockEnd();
  node->body = ParseBody({"endset"});
  ExpectEndTag("endset");
  return node;
}

NodePtr Parser::ParseMacro(SourcePos pos) {
  auto node = std::make_unique<MacroNode>(pos);
  node->name = ExpectName("a macro name");
  ExpectOperator("(");
  while (!AtOperator(")")) {
    if (!node->params.empty()) ExpectOperator(",");
    if (AtOperator(")")) break;  // trailing comma
    node->params.push_back(ExpectName("a parameter name"));
    node->defaults.push_back(SkipOperator("=") ? ParseExpression() : nullptr);
  }
  ExpectOperator(")");
  ExpectBlockEnd();
  int saved_loop_depth = loop_depth_;
  loop_depth_ = 0;
  node->body = ParseBody({"endmacro"});
  loop_depth_ = saved_loop_depth;
  Next();
  if (Peek().type == TokenType::kName && Peek().text == node->name) Next();
  ExpectBlockEnd();
  return node;
}

std::vector<std::unique_ptr<FilterExpr>> Parser::ParseFilterChain(bool first_has_pipe) {
  std::vector<std::unique_ptr<FilterExpr>> filters;
  if (first_has_pipe) ExpectOperator("|");
  do {
    filters.push_back(ParseFilter(nullptr));
  } while (SkipOperator("|"));
  return filters;
}

}  // namespace lantern::jinja
