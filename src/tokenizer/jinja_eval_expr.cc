// Expression evaluation (statements are in jinja_eval.cc).
#include "tokenizer/jinja_eval.h"

namespace lantern::jinja {
namespace {

// The steps that scanning `v` costs a builtin: one per 64 bytes of a string, one per 8
// elements of a list or dict. Filters, methods and tests charge only their string operand here:
// a walk over a list goes through IterateValue or the comparisons, which charge for it.
int64_t WorkOf(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kString:
      return static_cast<int64_t>(v.as_string().size() >> 6);
    case Value::Kind::kList:
      return static_cast<int64_t>(v.as_list().size() >> 3);
    case Value::Kind::kDict:
    case Value::Kind::kNamespace:
      return static_cast<int64_t>(v.as_dict().size() >> 3);
    default:
      return 0;
  }
}

int64_t StringWorkOf(const Value& v) {
  return v.is_string() ? static_cast<int64_t>(v.as_string().size() >> 6) : 0;
}

}  // namespace

Value Evaluator::Eval(const Expr& expr, Scope& scope) {
  Nesting nesting(counters_);
  counters_.Step();
  try {
    switch (expr.kind) {
      case Expr::Kind::kLiteral:
        return static_cast<const LiteralExpr&>(expr).value;
      case Expr::Kind::kName: {
        const Value* value = scope.Find(static_cast<const NameExpr&>(expr).name);
        return value ? *value : Value();
      }
      case Expr::Kind::kList: {
        List items;
        for (const ExprPtr& item : static_cast<const ListExpr&>(expr).items) {
          items.push_back(Eval(*item, scope));
        }
        return static_cast<const ListExpr&>(expr).is_tuple ? Value::MakeTuple(std::move(items))
                                                           : Value::MakeList(std::move(items));
      }
      case Expr::Kind::kDict: {
        Dict dict;
        for (const auto& [key_expr, value_expr] : static_cast<const DictExpr&>(expr).items) {
          Value key = Eval(*key_expr, scope);
          if (!key.is_string()) {
            ThrowRuntime(std::string("dict keys must be strings, got ") + key.TypeName());
          }
          dict.Set(key.as_string(), Eval(*value_expr, scope));
        }
        return Value::MakeDict(std::move(dict));
      }
      case Expr::Kind::kGetAttr: {
        const auto& get = static_cast<const GetAttrExpr&>(expr);
        return GetAttribute(Eval(*get.object, scope), get.attr);
      }
      case Expr::Kind::kGetItem: {
        const auto& get = static_cast<const GetItemExpr&>(expr);
        Value object = Eval(*get.object, scope);
        if (object.is_string()) counters_.Step(WorkOf(object));  // code point indexing
        return GetItem(object, Eval(*get.index, scope));
      }
      case Expr::Kind::kSlice: {
        const auto& slice = static_cast<const SliceExpr&>(expr);
        Value object = Eval(*slice.object, scope);
        counters_.Step(WorkOf(object));  // a slice copies
        auto part = [&](const ExprPtr& e) { return e ? Eval(*e, scope) : Value(); };
        return SliceValue(object, part(slice.start), part(slice.stop), part(slice.step));
      }
      case Expr::Kind::kCall:
        return EvalCall(static_cast<const CallExpr&>(expr), scope);
      case Expr::Kind::kFilter: {
        const auto& filter = static_cast<const FilterExpr&>(expr);
        return EvalFilter(filter, Eval(*filter.operand, scope), scope);
      }
      case Expr::Kind::kTest: {
        const auto& test = static_cast<const TestExpr&>(expr);
        Value operand = Eval(*test.operand, scope);
        counters_.Step(StringWorkOf(operand));
        return Value(ApplyTest(test.name, operand, EvalArguments(test.args, scope)) !=
                     test.negated);
      }
      case Expr::Kind::kUnary: {
        const auto& unary = static_cast<const UnaryExpr&>(expr);
        Value operand = Eval(*unary.operand, scope);
        if (unary.op == UnaryExpr::Op::kNot) return Value(!operand.Truthy());
        if (operand.is_float()) {
          return Value(unary.op == UnaryExpr::Op::kNegate ? -operand.as_double()
                                                          : operand.as_double());
        }
        if (operand.is_number()) {
          int64_t v = operand.as_int();
          if (unary.op == UnaryExpr::Op::kNegate && v == INT64_MIN)
            ThrowRuntime("integer overflow");
          return Value(unary.op == UnaryExpr::Op::kNegate ? -v : v);
        }
        ThrowRuntime(std::string("bad operand type for unary ") +
                     (unary.op == UnaryExpr::Op::kNegate ? "-" : "+") + ": '" + operand.TypeName() +
                     "'");
      }
      case Expr::Kind::kBinary: {
        const auto& binary = static_cast<const BinaryExpr&>(expr);
        Value left = Eval(*binary.left, scope);
        if (binary.op == BinaryOp::kAnd) return left.Truthy() ? Eval(*binary.right, scope) : left;
        if (binary.op == BinaryOp::kOr) return left.Truthy() ? left : Eval(*binary.right, scope);
        Value right = Eval(*binary.right, scope);
        counters_.Step(WorkOf(left) + WorkOf(right));
        return BinaryOperation(binary.op, left, right);
      }
      case Expr::Kind::kConditional: {
        const auto& cond = static_cast<const ConditionalExpr&>(expr);
        if (Eval(*cond.test, scope).Truthy()) return Eval(*cond.then_expr, scope);
        return cond.else_expr ? Eval(*cond.else_expr, scope) : Value();
      }
    }
  } catch (Error& e) {
    if (e.pos().line == 0) e.set_pos(expr.pos);
    throw;
  }
  return Value();
}

CallArgs Evaluator::EvalArguments(const Arguments& args, Scope& scope) {
  CallArgs result;
  result.positional.reserve(args.positional.size());
  for (const ExprPtr& arg : args.positional) result.positional.push_back(Eval(*arg, scope));
  for (const auto& [name, arg] : args.keyword) {
    for (const auto& existing : result.keyword) {
      if (existing.first == name)
        ThrowRuntime("got multiple values for keyword argument '" + name + "'");
    }
    result.keyword.emplace_back(name, Eval(*arg, scope));
  }
  return result;
}

Value Evaluator::EvalCall(const CallExpr& call, Scope& scope) {
  Value callee;
  std::string callee_name = "object";
  if (call.callee->kind == Expr::Kind::kGetAttr) {
    // obj.method(...) calls the method directly rather than building a bound function.
    const auto& get = static_cast<const GetAttrExpr&>(*call.callee);
    Value object = Eval(*get.object, scope);
    if (HasMethod(object, get.attr)) {
      counters_.Step(StringWorkOf(object));
      Value result;
      CallMethod(object, get.attr, EvalArguments(call.args, scope), &result);
      return result;
    }
    callee = GetAttribute(object, get.attr);
    callee_name = get.attr;
  } else {
    callee = Eval(*call.callee, scope);
    if (call.callee->kind == Expr::Kind::kName) {
      callee_name = static_cast<const NameExpr&>(*call.callee).name;
    }
  }
  if (callee.is_undefined()) ThrowRuntime("'" + callee_name + "' is undefined");
  if (!callee.is_function()) {
    ThrowRuntime(std::string("'") + callee.TypeName() + "' object is not callable");
  }
  return callee.as_function()(EvalArguments(call.args, scope));
}

Value Evaluator::EvalFilter(const FilterExpr& filter, Value operand, Scope& scope) {
  counters_.Step(StringWorkOf(operand));
  return ApplyFilter(filter.name, operand, EvalArguments(filter.args, scope));
}

}  // namespace lantern::jinja
