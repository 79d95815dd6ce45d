// The syntax tree the parser builds and the evaluator walks. Nodes are immutable after parsing,
// so one parsed template is shared by every concurrent render.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/jinja_error.h"
#include "tokenizer/jinja_value.h"

namespace lantern::jinja {

struct Expr {
  enum class Kind {
    kLiteral,
    kName,
    kList,  // also tuples: Python tuples behave as read-only lists here
    kDict,
    kGetAttr,
    kGetItem,
    kSlice,
    kCall,
    kFilter,
    kTest,
    kUnary,
    kBinary,
    kConditional,
  };
  Expr(Kind k, SourcePos p) : kind(k), pos(p) {}
  virtual ~Expr() = default;
  Kind kind;
  SourcePos pos;
};
using ExprPtr = std::unique_ptr<Expr>;

struct Arguments {
  std::vector<ExprPtr> positional;
  std::vector<std::pair<std::string, ExprPtr>> keyword;
};

struct LiteralExpr : Expr {
  LiteralExpr(SourcePos p, Value v) : Expr(Kind::kLiteral, p), value(std::move(v)) {}
  Value value;
};

struct NameExpr : Expr {
  NameExpr(SourcePos p, std::string n) : Expr(Kind::kName, p), name(std::move(n)) {}
  std::string name;
};

struct ListExpr : Expr {
  explicit ListExpr(SourcePos p, bool t = false) : Expr(Kind::kList, p), is_tuple(t) {}
  std::vector<ExprPtr> items;
  bool is_tuple;
};

struct DictExpr : Expr {
  explicit DictExpr(SourcePos p) : Expr(Kind::kDict, p) {}
  std::vector<std::pair<ExprPtr, ExprPtr>> items;
};

struct GetAttrExpr : Expr {
  GetAttrExpr(SourcePos p, ExprPtr o, std::string a)
      : Expr(Kind::kGetAttr, p), object(std::move(o)), attr(std::move(a)) {}
  ExprPtr object;
  std::string attr;
};

struct GetItemExpr : Expr {
  GetItemExpr(SourcePos p, ExprPtr o, ExprPtr i)
      : Expr(Kind::kGetItem, p), object(std::move(o)), index(std::move(i)) {}
  ExprPtr object;
  ExprPtr index;
};

struct SliceExpr : Expr {  // object[start:stop:step]; omitted parts are null
  explicit SliceExpr(SourcePos p) : Expr(Kind::kSlice, p) {}
  ExprPtr object, start, stop, step;
};

struct CallExpr : Expr {
  explicit CallExpr(SourcePos p) : Expr(Kind::kCall, p) {}
  ExprPtr callee;
  Arguments args;
};

struct FilterExpr : Expr {  // operand | name(args)
  explicit FilterExpr(SourcePos p) : Expr(Kind::kFilter, p) {}
  ExprPtr operand;  // null inside {% filter %} blocks: the block's output is the operand
  std::string name;
  Arguments args;
};

struct TestExpr : Expr {  // operand is [not] name(args)
  explicit TestExpr(SourcePos p) : Expr(Kind::kTest, p) {}
  ExprPtr operand;
  std::string name;
  Arguments args;
  bool negated = false;
};

struct UnaryExpr : Expr {
  enum class Op { kNot, kNegate, kPlus };
  UnaryExpr(SourcePos p, Op o, ExprPtr e) : Expr(Kind::kUnary, p), op(o), operand(std::move(e)) {}
  Op op;
  ExprPtr operand;
};

enum class BinaryOp {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kFloorDiv,
  kMod,
  kPow,
  kConcat,
  kAnd,
  kOr,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kIn,
  kNotIn,
};

struct BinaryExpr : Expr {
  BinaryExpr(SourcePos p, BinaryOp o, ExprPtr l, ExprPtr r)
      : Expr(Kind::kBinary, p), op(o), left(std::move(l)), right(std::move(r)) {}
  BinaryOp op;
  ExprPtr left, right;
};

struct ConditionalExpr : Expr {  // then_expr if test else else_expr
  explicit ConditionalExpr(SourcePos p) : Expr(Kind::kConditional, p) {}
  ExprPtr test, then_expr, else_expr;  // else_expr may be null: undefined
};

struct Node;
using NodePtr = std::unique_ptr<Node>;
using Body = std::vector<NodePtr>;

struct Node {
  enum class Kind {
    kText,
    kOutput,
    kIf,
    kFor,
    kSet,
    kSetBlock,
    kMacro,
    kBreak,
    kContinue,
    kFilterBlock,
    kDo
  };
  Node(Kind k, SourcePos p) : kind(k), pos(p) {}
  virtual ~Node() = default;
  Kind kind;
  SourcePos pos;
};

struct TextNode : Node {
  TextNode(SourcePos p, std::string t) : Node(Kind::kText, p), text(std::move(t)) {}
  std::string text;
};

struct OutputNode : Node {  // {{ expr }}
  OutputNode(SourcePos p, ExprPtr e) : Node(Kind::kOutput, p), expr(std::move(e)) {}
  ExprPtr expr;
};

struct IfNode : Node {
  explicit IfNode(SourcePos p) : Node(Kind::kIf, p) {}
  std::vector<std::pair<ExprPtr, Body>> branches;  // if + elifs
  Body else_body;
};

struct ForNode : Node {
  explicit ForNode(SourcePos p) : Node(Kind::kFor, p) {}
  std::vector<std::string> targets;  // one name, or several to unpack each item into
  ExprPtr iterable;
  ExprPtr filter;  // `for x in xs if cond`, may be null
  Body body;
  Body else_body;
};

// Where `set` stores: plain names (several when unpacking), or an attribute of a namespace.
struct AssignTarget {
  std::vector<std::string> names;
  ExprPtr object;  // non-null for `set ns.attr = ...`
  std::string attr;
};

struct SetNode : Node {
  explicit SetNode(SourcePos p) : Node(Kind::kSet, p) {}
  AssignTarget target;
  ExprPtr value;
};

struct SetBlockNode : Node {  // {% set x | filter %}...{% endset %}
  explicit SetBlockNode(SourcePos p) : Node(Kind::kSetBlock, p) {}
  AssignTarget target;
  std::vector<std::unique_ptr<FilterExpr>> filters;
  Body body;
};

struct MacroNode : Node {
  explicit MacroNode(SourcePos p) : Node(Kind::kMacro, p) {}
  std::string name;
  std::vector<std::string> params;
  std::vector<ExprPtr> defaults;  // parallel to params; null where none
  Body body;
};

struct FilterBlockNode : Node {  // {% filter upper %}...{% endfilter %}
  explicit FilterBlockNode(SourcePos p) : Node(Kind::kFilterBlock, p) {}
  std::vector<std::unique_ptr<FilterExpr>> filters;
  Body body;
};

struct DoNode : Node {  // {% do expr %}
  DoNode(SourcePos p, ExprPtr e) : Node(Kind::kDo, p), expr(std::move(e)) {}
  ExprPtr expr;
};

struct ControlNode : Node {  // break / continue
  ControlNode(SourcePos p, Kind k) : Node(k, p) {}
};

}  // namespace lantern::jinja
