// Walks the syntax tree and writes the rendered text. One Evaluator per render; the tree is
// shared and never modified.
#pragma once

#include <string>

#include "tokenizer/jinja_ast.h"
#include "tokenizer/jinja_builtins.h"

namespace lantern::jinja {

class Evaluator {
 public:
  // Renders `body` with `globals` (the caller's variables) visible, appending to *out.
  // Throws jinja::Error with the position of the failing node.
  static void Render(const Body& body, const Scope& globals, std::string* out);

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  Flow Execute(const Body& body, Scope& scope, std::string* out);
  Flow ExecuteNode(const Node& node, Scope& scope, std::string* out);
  Flow ExecuteFor(const struct ForNode& node, Scope& scope, std::string* out);
  void Assign(const AssignTarget& target, Value value, Scope& scope);
  Value DefineMacro(const MacroNode& node, const Scope& scope);

  Value Eval(const Expr& expr, Scope& scope);
  Value EvalCall(const CallExpr& call, Scope& scope);
  Value EvalFilter(const FilterExpr& filter, Value operand, Scope& scope);
  CallArgs EvalArguments(const Arguments& args, Scope& scope);

  int call_depth_ = 0;
};

}  // namespace lantern::jinja
