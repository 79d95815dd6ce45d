// Expression half of the parser (statements are in jinja_parser.cc).
#include "tokenizer/jinja_parser.h"

namespace lantern::jinja {
namespace {

constexpr int kMaxExpressionDepth = 200;

// Counts nesting on entry, undoes it on exit.
class DepthGuard {
 public:
  explicit DepthGuard(int* depth) : depth_(depth) { ++*depth_; }
  ~DepthGuard() { --*depth_; }
  DepthGuard(const DepthGuard&) = delete;
  DepthGuard& operator=(const DepthGuard&) = delete;

 private:
  int* depth_;
};

ExprPtr MakeBinary(SourcePos pos, BinaryOp op, ExprPtr left, ExprPtr right) {
  return std::make_unique<BinaryExpr>(pos, op, std::move(left), std::move(right));
}

}  // namespace

// An expression, or several separated by commas (a tuple, e.g. `{% set a, b = 1, 2 %}`).
ExprPtr Parser::ParseTuple(bool with_condexpr) {
  SourcePos pos = Peek().pos;
  ExprPtr first = ParseExpression(with_condexpr);
  if (!AtOperator(",")) return first;
  auto tuple = std::make_unique<ListExpr>(pos, /*is_tuple=*/true);
  tuple->items.push_back(std::move(first));
  while (SkipOperator(",")) {
    TokenType t = Peek().type;
    if (t == TokenType::kBlockEnd || t == TokenType::kVarEnd || AtOperator(")")) break;
    tuple->items.push_back(ParseExpression(with_condexpr));
  }
  return tuple;
}

ExprPtr Parser::ParseExpression(bool with_condexpr) {
  DepthGuard guard(&expr_depth_);
  if (expr_depth_ > kMaxExpressionDepth) Fail("expression nested too deeply", Peek().pos);
  return with_condexpr ? ParseConditional() : ParseOr();
}

ExprPtr Parser::ParseConditional() {
  ExprPtr expr = ParseOr();
  while (AtName("if")) {
    auto cond = std::make_unique<ConditionalExpr>(Next().pos);
    cond->then_expr = std::move(expr);
    cond->test = ParseOr();
    if (SkipName("else")) cond->else_expr = ParseConditional();
    expr = std::move(cond);
  }
  return expr;
}

ExprPtr Parser::ParseOr() {
  ExprPtr left = ParseAnd();
  while (AtName("or")) {
    SourcePos pos = Next().pos;
    left = MakeBinary(pos, BinaryOp::kOr, std::move(left), ParseAnd());
  }
  return left;
}

ExprPtr Parser::ParseAnd() {
  ExprPtr left = ParseNot();
  while (AtName("and")) {
    SourcePos pos = Next().pos;
    left = MakeBinary(pos, BinaryOp::kAnd, std::move(left), ParseNot());
  }
  return left;
}

ExprPtr Parser::ParseNot() {
  if (AtName("not")) {
    SourcePos pos = Next().pos;
    DepthGuard guard(&expr_depth_);
    if (expr_depth_ > kMaxExpressionDepth) Fail("expression nested too deeply", pos);
    return std::make_unique<UnaryExpr>(pos, UnaryExpr::Op::kNot, ParseNot());
  }
  return ParseCompare();
}

ExprPtr Parser::ParseCompare() {
  ExprPtr left = ParseMath1();
  static const std::pair<std::string_view, BinaryOp> kOps[] = {
      {"==", BinaryOp::kEq}, {"!=", BinaryOp::kNe}, {"<", BinaryOp::kLt},
      {"<=", BinaryOp::kLe}, {">", BinaryOp::kGt},  {">=", BinaryOp::kGe}};
  while (true) {
    SourcePos pos = Peek().pos;
    BinaryOp op;
    if (SkipName("in")) {
      op = BinaryOp::kIn;
    } else if (AtName("not") && AtName("in", 1)) {
      Next();
      Next();
      op = BinaryOp::kNotIn;
    } else {
      bool found = false;
      for (const auto& [text, candidate] : kOps) {
        if (AtOperator(text)) {
          op = candidate;
          found = true;
          Next();
          break;
        }
      }
      if (!found) return left;
    }
    left = MakeBinary(pos, op, std::move(left), ParseMath1());
  }
}

ExprPtr Parser::ParseMath1() {
  ExprPtr left = ParseConcat();
  while (AtOperator("+") || AtOperator("-")) {
    const Token& op = Next();
    BinaryOp kind = op.text == "+" ? BinaryOp::kAdd : BinaryOp::kSub;
    left = MakeBinary(op.pos, kind, std::move(left), ParseConcat());
  }
  return left;
}

ExprPtr Parser::ParseConcat() {
  ExprPtr left = ParseMath2();
  while (AtOperator("~")) {
    SourcePos pos = Next().pos;
    left = MakeBinary(pos, BinaryOp::kConcat, std::move(left), ParseMath2());
  }
  return left;
}

ExprPtr Parser::ParseMath2() {
  ExprPtr left = ParsePow();
  while (true) {
    BinaryOp kind;
    if (AtOperator("*")) {
      kind = BinaryOp::kMul;
    } else if (AtOperator("/")) {
      kind = BinaryOp::kDiv;
    } else if (AtOperator("//")) {
      kind = BinaryOp::kFloorDiv;
    } else if (AtOperator("%")) {
      kind = BinaryOp::kMod;
    } else {
      return left;
    }
    SourcePos pos = Next().pos;
    left = MakeBinary(pos, kind, std::move(left), ParsePow());
  }
}

ExprPtr Parser::ParsePow() {
  ExprPtr left = ParseUnary(true);
  while (AtOperator("**")) {
    SourcePos pos = Next().pos;
    left = MakeBinary(pos, BinaryOp::kPow, std::move(left), ParseUnary(true));
  }
  return left;
}

ExprPtr Parser::ParseUnary(bool with_filter) {
  DepthGuard guard(&expr_depth_);
  if (expr_depth_ > kMaxExpressionDepth) Fail("expression nested too deeply", Peek().pos);
  ExprPtr node;
  if (AtOperator("-") || AtOperator("+")) {
    const Token& op = Next();
    auto kind = op.text == "-" ? UnaryExpr::Op::kNegate : UnaryExpr::Op::kPlus;
    node = std::make_unique<UnaryExpr>(op.pos, kind, ParseUnary(false));
  } else {
    node = ParsePostfix(ParsePrimary());
  }
  if (with_filter) return ParseFilterAndTests(std::move(node));
  return node;
}

ExprPtr Parser::ParsePrimary() {
  const Token& token = Peek();
  SourcePos pos = token.pos;
  switch (token.type) {
    case TokenType::kName: {
      Next();
      const std::string& n = token.text;
      if (n == "true" || n == "True") return std::make_unique<LiteralExpr>(pos, Value(true));
      if (n == "false" || n == "False") return std::make_unique<LiteralExpr>(pos, Value(false));
      if (n == "none" || n == "None") return std::make_unique<LiteralExpr>(pos, Value::None());
      return std::make_unique<NameExpr>(pos, n);
    }
    case TokenType::kString: {
      std::string text = Next().text;
      while (Peek().type == TokenType::kString) text += Next().text;  // "a" "b" == "ab"
      return std::make_unique<LiteralExpr>(pos, Value(std::move(text)));
    }
    case TokenType::kInteger:
      return std::make_unique<LiteralExpr>(pos, Value(Next().int_value));
    case TokenType::kFloat:
      return std::make_unique<LiteralExpr>(pos, Value(Next().float_value));
    case TokenType::kOperator:
      if (SkipOperator("(")) {
        if (SkipOperator(")")) return std::make_unique<ListExpr>(pos, true);  // ()
        ExprPtr inner = ParseTuple();
        ExpectOperator(")");
        return inner;
      }
      if (SkipOperator("[")) {
        auto list = std::make_unique<ListExpr>(pos);
        while (!AtOperator("]")) {
          if (!list->items.empty()) ExpectOperator(",");
          if (AtOperator("]")) break;
          list->items.push_back(ParseExpression());
        }
        ExpectOperator("]");
        return list;
      }
      if (SkipOperator("{")) {
        auto dict = std::make_unique<DictExpr>(pos);
        while (!AtOperator("}")) {
          if (!dict->items.empty()) ExpectOperator(",");
          if (AtOperator("}")) break;
          ExprPtr key = ParseExpression();
          ExpectOperator(":");
          dict->items.emplace_back(std::move(key), ParseExpression());
        }
        ExpectOperator("}");
        return dict;
      }
      break;
    default:
      break;
  }
  FailUnexpected("an expression");
}

ExprPtr Parser::ParsePostfix(ExprPtr node) {
  while (true) {
    SourcePos pos = Peek().pos;
    if (SkipOperator(".")) {
      if (Peek().type == TokenType::kInteger) {  // foo.0 is foo[0]
        auto index = std::make_unique<LiteralExpr>(Peek().pos, Value(Next().int_value));
        node = std::make_unique<GetItemExpr>(pos, std::move(node), std::move(index));
      } else {
        node = std::make_unique<GetAttrExpr>(pos, std::move(node), ExpectName("an attribute name"));
      }
    } else if (SkipOperator("[")) {
      node = ParseSubscript(std::move(node), pos);
    } else if (AtOperator("(")) {
      auto call = std::make_unique<CallExpr>(pos);
      call->callee = std::move(node);
      call->args = ParseCallArguments();
      node = std::move(call);
    } else {
      return node;
    }
  }
}

ExprPtr Parser::ParseSubscript(ExprPtr object, SourcePos pos) {
  ExprPtr parts[3];
  int part = 0;
  bool is_slice = false;
  while (!AtOperator("]")) {
    if (SkipOperator(":")) {
      if (++part > 2) FailUnexpected("']'");
      is_slice = true;
      continue;
    }
    if (parts[part]) FailUnexpected("':' or ']'");
    parts[part] = ParseExpression();
  }
  ExpectOperator("]");
  if (!is_slice) {
    if (!parts[0]) Fail("empty subscript", pos);
    return std::make_unique<GetItemExpr>(pos, std::move(object), std::move(parts[0]));
  }
  auto slice = std::make_unique<SliceExpr>(pos);
  slice->object = std::move(object);
  slice->start = std::move(parts[0]);
  slice->stop = std::move(parts[1]);
  slice->step = std::move(parts[2]);
  return slice;
}

ExprPtr Parser::ParseFilterAndTests(ExprPtr node) {
  while (true) {
    if (SkipOperator("|")) {
      node = ParseFilter(std::move(node));
    } else if (AtName("is")) {
      auto test = std::make_unique<TestExpr>(Next().pos);
      test->negated = SkipName("not");
      test->operand = std::move(node);
      test->name = ExpectName("a test name");
      const Token& t = Peek();
      if (AtOperator("(")) {
        test->args = ParseCallArguments();
      } else if ((t.type == TokenType::kName || t.type == TokenType::kString ||
                  t.type == TokenType::kInteger || t.type == TokenType::kFloat || AtOperator("[") ||
                  AtOperator("{")) &&
                 !AtName("else") && !AtName("or") && !AtName("and") && !AtName("is")) {
        test->args.positional.push_back(ParsePostfix(ParsePrimary()));  // `is equalto 3`
      }
      node = std::move(test);
    } else if (AtOperator("(")) {
      auto call = std::make_unique<CallExpr>(Peek().pos);
      call->callee = std::move(node);
      call->args = ParseCallArguments();
      node = std::move(call);
    } else {
      return node;
    }
  }
}

std::unique_ptr<FilterExpr> Parser::ParseFilter(ExprPtr operand) {
  auto filter = std::make_unique<FilterExpr>(Peek().pos);
  filter->operand = std::move(operand);
  filter->name = ExpectName("a filter name");
  if (AtOperator("(")) filter->args = ParseCallArguments();
  return filter;
}

Arguments Parser::ParseCallArguments() {
  Arguments args;
  ExpectOperator("(");
  while (!AtOperator(")")) {
    if (!args.positional.empty() || !args.keyword.empty()) ExpectOperator(",");
    if (AtOperator(")")) break;
    if (Peek().type == TokenType::kName && AtOperator("=", 1)) {
      std::string name = Next().text;
      Next();
      args.keyword.emplace_back(std::move(name), ParseExpression());
    } else {
      if (!args.keyword.empty()) Fail("positional argument follows keyword argument", Peek().pos);
      args.positional.push_back(ParseExpression());
    }
  }
  ExpectOperator(")");
  return args;
}

}  // namespace lantern::jinja
