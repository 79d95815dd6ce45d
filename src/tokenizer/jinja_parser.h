// Recursive-descent parser from tokens to the syntax tree, following Jinja's grammar and
// operator precedence (jinja2/parser.py): conditional < or < and < not < comparisons < + - <
// ~ < * / // % < ** < unary minus < filters, tests and postfix access.
#pragma once

#include <initializer_list>
#include <string_view>
#include <vector>

#include "tokenizer/jinja_ast.h"
#include "tokenizer/jinja_lexer.h"

namespace lantern::jinja {

// Throws jinja::Error (kSyntax) naming the line and column.
Body ParseTemplate(const std::vector<Token>& tokens);

class Parser {
 public:
  explicit Parser(const std::vector<Token>& tokens) : tokens_(tokens) {}

  Body ParseAll();

 private:
  // Statements (jinja_parser.cc).
  Body ParseBody(std::initializer_list<std::string_view> end_tags);
  NodePtr ParseStatement();
  NodePtr ParseIf(SourcePos pos);
  NodePtr ParseFor(SourcePos pos);
  NodePtr ParseSet(SourcePos pos);
  NodePtr ParseMacro(SourcePos pos);
  AssignTarget ParseAssignTarget();
  std::vector<std::unique_ptr<FilterExpr>> ParseFilterChain(bool first_has_pipe);
  void ExpectBlockEnd();
  void ExpectEndTag(std::string_view name);

  // Expressions (jinja_parser_expr.cc).
  ExprPtr ParseTuple(bool with_condexpr = true);
  ExprPtr ParseExpression(bool with_condexpr = true);
  ExprPtr ParseConditional();
  ExprPtr ParseOr();
  ExprPtr ParseAnd();
  ExprPtr ParseNot();
  ExprPtr ParseCompare();
  ExprPtr ParseMath1();
  ExprPtr ParseConcat();
  ExprPtr ParseMath2();
  ExprPtr ParsePow();
  ExprPtr ParseUnary(bool with_filter);
  ExprPtr ParsePrimary();
  ExprPtr ParsePostfix(ExprPtr node);
  ExprPtr ParseFilterAndTests(ExprPtr node);
  ExprPtr ParseSubscript(ExprPtr object, SourcePos pos);
  std::unique_ptr<FilterExpr> ParseFilter(ExprPtr operand);
  Arguments ParseCallArguments();

  // Token helpers.
  const Token& Peek(size_t ahead = 0) const;
  const Token& Next();
  bool AtName(std::string_view name, size_t ahead = 0) const;
  bool AtOperator(std::string_view op, size_t ahead = 0) const;
  bool SkipOperator(std::string_view op);
  bool SkipName(std::string_view name);
  void ExpectOperator(std::string_view op);
  std::string ExpectName(std::string_view what);
  [[noreturn]] void Fail(const std::string& message, SourcePos pos) const;
  [[noreturn]] void FailUnexpected(std::string_view expected) const;

  const std::vector<Token>& tokens_;
  size_t index_ = 0;
  int loop_depth_ = 0;  // break/continue are only valid inside a for loop
  int expr_depth_ = 0;  // guards the C++ stack against pathological nesting
  int block_depth_ = 0;
};

}  // namespace lantern::jinja
