// Walks the syntax tree and writes the rendered text. One Evaluator per render; the tree is
// shared and never modified.
#pragma once

#include <string>

#include "tokenizer/jinja_ast.h"
#include "tokenizer/jinja_budget.h"
#include "tokenizer/jinja_builtins.h"

namespace lantern::jinja {

class Evaluator {
 public:
  // Renders `body` with `globals` (the caller's variables) visible, appending to *out, within
  // `budget`. Throws jinja::Error with the position of the failing node.
  static void Render(const Body& body, const Scope& globals, const RenderBudget& budget,
                     std::string* out);

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  explicit Evaluator(const RenderBudget& budget) : counters_(budget) {}

  // One level of nesting (a body, an expression) for the depth budget.
  class Nesting {
   public:
    explicit Nesting(BudgetCounters& counters) : counters_(counters) { counters_.Enter(); }
    ~Nesting() { counters_.Leave(); }
    Nesting(const Nesting&) = delete;
    Nesting& operator=(const Nesting&) = delete;

   private:
    BudgetCounters& counters_;
  };

  Flow Execute(const Body& body, Scope& scope, std::string* out);
  Flow ExecuteNode(const Node& node, Scope& scope, std::string* out);
  Flow ExecuteFor(const struct ForNode& node, Scope& scope, std::string* out);
  void Assign(const AssignTarget& target, Value value, Scope& scope);
  Value DefineMacro(const MacroNode& node, const Scope& scope);

  Value Eval(const Expr& expr, Scope& scope);
  Value EvalCall(const CallExpr& call, Scope& scope);
  Value EvalFilter(const FilterExpr& filter, Value operand, Scope& scope);
  CallArgs EvalArguments(const Arguments& args, Scope& scope);

  BudgetCounters counters_;
};

}  // namespace lantern::jinja
