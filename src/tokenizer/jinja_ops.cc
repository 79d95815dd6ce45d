// Operators, attribute/item access, slicing and iteration with Python's semantics.
#include <cmath>
#include <limits>
#include <optional>

#include "tokenizer/jinja_budget.h"
#include "tokenizer/jinja_builtins.h"
#include "tokenizer/jinja_error.h"
#include "tokenizer/jinja_text.h"

namespace lantern::jinja {

const Value* Scope::Find(std::string_view name) const {
  for (const Scope* s = this; s != nullptr; s = s->parent_) {
    for (const auto& [key, value] : s->vars_) {
      if (key == name) return &value;
    }
  }
  return nullptr;
}

void Scope::Set(std::string_view name, Value value) {
  for (auto& [key, existing] : vars_) {
    if (key == name) {
      existing = std::move(value);
      return;
    }
  }
  vars_.emplace_back(std::string(name), std::move(value));
}

namespace {

[[noreturn]] void Unsupported(const char* op, const Value& a, const Value& b) {
  ThrowRuntime(std::string("unsupported operand type(s) for ") + op + ": '" + a.TypeName() +
               "' and '" + b.TypeName() + "'");
}

// Python ints are unbounded; ours are 64-bit and overflow is an error, never a wrap.
Value CheckedInt(BinaryOp op, int64_t x, int64_t y) {
  int64_t r = 0;
  bool overflow = op == BinaryOp::kAdd   ? __builtin_add_overflow(x, y, &r)
                  : op == BinaryOp::kSub ? __builtin_sub_overflow(x, y, &r)
                                         : __builtin_mul_overflow(x, y, &r);
  if (overflow) ThrowRuntime("integer overflow");
  return Value(r);
}

Value Arithmetic(BinaryOp op, const Value& a, const Value& b, const char* symbol) {
  if (!a.is_number() || !b.is_number()) Unsupported(symbol, a, b);
  bool use_float = a.is_float() || b.is_float() || op == BinaryOp::kDiv;
  if (use_float) {
    double x = a.as_double(), y = b.as_double();
    switch (op) {
      case BinaryOp::kAdd:
        return Value(x + y);
      case BinaryOp::kSub:
        return Value(x - y);
      case BinaryOp::kMul:
        return Value(x * y);
      case BinaryOp::kPow:
        return Value(std::pow(x, y));
      default:
        break;
    }
    if (y == 0) ThrowRuntime("division by zero");
    if (op == BinaryOp::kDiv) return Value(x / y);
    if (op == BinaryOp::kFloorDiv) return Value(std::floor(x / y));
    double r = std::fmod(x, y);
    if (r != 0 && ((r < 0) != (y < 0))) r += y;
    return Value(r);
  }
  int64_t x = a.as_int(), y = b.as_int();
  switch (op) {
    case BinaryOp::kAdd:
    case BinaryOp::kSub:
    case BinaryOp::kMul:
      return CheckedInt(op, x, y);
    case BinaryOp::kPow: {
      if (y < 0) return Value(std::pow(static_cast<double>(x), static_cast<double>(y)));
      int64_t result = 1;
      for (int64_t i = 0; i < y; ++i) {
        if (__builtin_mul_overflow(result, x, &result)) ThrowRuntime("integer overflow");
        if (result == 0 || result == 1) break;
      }
      return Value(result);
    }
    default:
      break;
  }
  if (y == 0) ThrowRuntime("integer division or modulo by zero");
  if (x == std::numeric_limits<int64_t>::min() && y == -1) ThrowRuntime("integer overflow");
  int64_t q = x / y, m = x % y;
  if (m != 0 && ((m < 0) != (y < 0))) {
    --q;
    m += y;
  }
  return Value(op == BinaryOp::kFloorDiv ? q : m);
}

Value Repeat(const Value& seq, const Value& count) {
  int64_t n = std::max<int64_t>(0, count.as_int());
  if (seq.is_string()) {
    size_t bytes = 0;
    if (__builtin_mul_overflow(seq.as_string().size(), static_cast<size_t>(n), &bytes)) {
      ThrowRuntime("string repetition too large");
    }
    CheckAllocation(bytes);
    std::string out;
    out.reserve(bytes);
    for (int64_t i = 0; i < n; ++i) out += seq.as_string();
    return Value(std::move(out));
  }
  size_t items = 0;
  if (__builtin_mul_overflow(seq.as_list().size(), static_cast<size_t>(n), &items) ||
      items > (size_t{1} << 40)) {
    ThrowRuntime("list repetition too large");
  }
  CheckAllocation(items * sizeof(Value));
  List out;
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), seq.as_list().begin(), seq.as_list().end());
  return Value::MakeList(std::move(out));
}

const char* OpSymbol(BinaryOp op) {
  switch (op) {
    case BinaryOp::kLt:
      return "<";
    case BinaryOp::kLe:
      return "<=";
    case BinaryOp::kGt:
      return ">";
    default:
      return ">=";
  }
}

}  // namespace

Value BinaryOperation(BinaryOp op, const Value& a, const Value& b) {
  switch (op) {
    case BinaryOp::kAdd:
      if (a.is_string() && b.is_string()) {
        CheckAllocation(a.as_string().size() + b.as_string().size());
        return Value(a.as_string() + b.as_string());
      }
      if (a.is_list() && b.is_list()) {
        CheckAllocation((a.as_list().size() + b.as_list().size()) * sizeof(Value));
        List out = a.as_list();
        out.insert(out.end(), b.as_list().begin(), b.as_list().end());
        return Value::MakeList(std::move(out));
      }
      return Arithmetic(op, a, b, "+");
    case BinaryOp::kSub:
      return Arithmetic(op, a, b, "-");
    case BinaryOp::kMul:
      if ((a.is_string() || a.is_list()) && (b.is_int() || b.is_bool())) return Repeat(a, b);
      if ((b.is_string() || b.is_list()) && (a.is_int() || a.is_bool())) return Repeat(b, a);
      return Arithmetic(op, a, b, "*");
    case BinaryOp::kDiv:
      return Arithmetic(op, a, b, "/");
    case BinaryOp::kFloorDiv:
      return Arithmetic(op, a, b, "//");
    case BinaryOp::kMod:
      if (a.is_string()) {  // printf-style formatting: '%s-%d' % (x, 3)
        CallArgs args;
        if (b.is_list()) {
          args.positional = b.as_list();
        } else {
          args.positional.push_back(b);
        }
        return ApplyFilter("format", a, args);
      }
      return Arithmetic(op, a, b, "%");
    case BinaryOp::kPow:
      return Arithmetic(op, a, b, "**");
    case BinaryOp::kConcat: {
      std::string left = a.Str();
      std::string right = b.Str();
      CheckAllocation(left.size() + right.size());
      return Value(left + right);
    }
    case BinaryOp::kEq:
      return Value(Equals(a, b));
    case BinaryOp::kNe:
      return Value(!Equals(a, b));
    case BinaryOp::kIn:
      return Value(Contains(b, a));
    case BinaryOp::kNotIn:
      return Value(!Contains(b, a));
    case BinaryOp::kLt:
    case BinaryOp::kLe:
    case BinaryOp::kGt:
    case BinaryOp::kGe: {
      bool ok = false;
      int c = Compare(a, b, &ok);
      if (!ok) {
        ThrowRuntime(std::string("'") + OpSymbol(op) + "' not supported between instances of '" +
                     a.TypeName() + "' and '" + b.TypeName() + "'");
      }
      if (op == BinaryOp::kLt) return Value(c < 0);
      if (op == BinaryOp::kLe) return Value(c <= 0);
      if (op == BinaryOp::kGt) return Value(c > 0);
      return Value(c >= 0);
    }
    case BinaryOp::kAnd:
    case BinaryOp::kOr:
      break;  // short-circuiting is the evaluator's job
  }
  ThrowRuntime("unsupported operator");
}

bool Contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Value::Kind::kString:
      if (!item.is_string()) {
        ThrowRuntime(std::string("'in <string>' requires string as left operand, not ") +
                     item.TypeName());
      }
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Value::Kind::kList:
      ChargeSteps(static_cast<int64_t>(container.as_list().size() >> 3));
      for (const Value& v : container.as_list()) {
        if (Equals(v, item)) return true;
      }
      return false;
    case Value::Kind::kDict:
    case Value::Kind::kNamespace:
      return item.is_string() && container.as_dict().Find(item.as_string()) != nullptr;
    case Value::Kind::kUndefined:
      return false;
    default:
      ThrowRuntime(std::string("argument of type '") + container.TypeName() + "' is not iterable");
  }
}

Value GetAttribute(const Value& object, std::string_view name) {
  if (object.is_namespace()) {
    const Value* v = object.as_dict().Find(name);
    return v ? *v : Value();
  }
  if (HasMethod(object, name)) {
    std::string method(name);
    return Value::MakeFunction([object, method](const CallArgs& args) {
      Value result;
      CallMethod(object, method, args, &result);
      return result;
    });
  }
  if (object.is_dict()) {
    const Value* v = object.as_dict().Find(name);
    return v ? *v : Value();
  }
  return Value();  // Jinja turns a missing attribute into undefined
}

Value GetItem(const Value& object, const Value& key) {
  if ((object.is_dict() || object.is_namespace()) && key.is_string()) {
    const Value* v = object.as_dict().Find(key.as_string());
    if (v) return *v;
    return object.is_dict() ? GetAttribute(object, key.as_string()) : Value();
  }
  if ((object.is_list() || object.is_string()) && (key.is_int() || key.is_bool())) {
    int64_t i = key.as_int();
    if (object.is_list()) {
      int64_t n = static_cast<int64_t>(object.as_list().size());
      if (i < 0) i += n;
      return i >= 0 && i < n ? object.as_list()[static_cast<size_t>(i)] : Value();
    }
    const std::string& s = object.as_string();
    if (IsAscii(s)) {
      int64_t n = static_cast<int64_t>(s.size());
      if (i < 0) i += n;
      return i >= 0 && i < n ? Value(std::string(1, s[static_cast<size_t>(i)])) : Value();
    }
    std::u32string cps = DecodeUtf8(s);
    int64_t n = static_cast<int64_t>(cps.size());
    if (i < 0) i += n;
    return i >= 0 && i < n ? Value(EncodeUtf8(cps.substr(static_cast<size_t>(i), 1))) : Value();
  }
  if (key.is_string()) return GetAttribute(object, key.as_string());
  return Value();
}

namespace {

// Python's PySlice_AdjustIndices: the positions a slice visits in a sequence of length n.
std::vector<int64_t> SliceIndices(int64_t n, const Value& start_v, const Value& stop_v,
                                  const Value& step_v) {
  auto as_index = [](const Value& v, const char* what) -> std::optional<int64_t> {
    if (v.is_undefined() || v.is_none()) return std::nullopt;
    return ToInteger(v, what);
  };
  int64_t step = as_index(step_v, "slice step").value_or(1);
  if (step == 0) ThrowRuntime("slice step cannot be zero");
  auto clamp = [&](std::optional<int64_t> v, int64_t dflt) {
    if (!v) return dflt;
    int64_t i = *v;
    if (i < 0) {
      i += n;
      if (i < 0) i = step < 0 ? -1 : 0;
    } else if (i >= n) {
      i = step < 0 ? n - 1 : n;
    }
    return i;
  };
  int64_t start = clamp(as_index(start_v, "slice start"), step < 0 ? n - 1 : 0);
  int64_t stop = clamp(as_index(stop_v, "slice stop"), step < 0 ? -1 : n);
  std::vector<int64_t> out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(i);
  return out;
}

}  // namespace

Value SliceValue(const Value& object, const Value& start, const Value& stop, const Value& step) {
  if (object.is_list()) {
    const List& list = object.as_list();
    List out;
    for (int64_t i : SliceIndices(static_cast<int64_t>(list.size()), start, stop, step)) {
      out.push_back(list[static_cast<size_t>(i)]);
    }
    return Value::MakeList(std::move(out));
  }
  if (object.is_string()) {
    std::u32string cps = DecodeUtf8(object.as_string());
    std::u32string out;
    for (int64_t i : SliceIndices(static_cast<int64_t>(cps.size()), start, stop, step)) {
      out.push_back(cps[static_cast<size_t>(i)]);
    }
    return Value(EncodeUtf8(out));
  }
  if (object.is_undefined()) return Value();
  ThrowRuntime(std::string("'") + object.TypeName() + "' object is not subscriptable");
}

List IterateValue(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::kList:
      ChargeSteps(static_cast<int64_t>(value.as_list().size() >> 3));
      return value.as_list();
    case Value::Kind::kDict:
    case Value::Kind::kNamespace: {
      List keys;
      for (const auto& entry : value.as_dict().entries()) keys.emplace_back(entry.first);
      return keys;
    }
    case Value::Kind::kString: {
      // One small string per character: about 40 bytes each.
      CheckAllocation(value.as_string().size() * (sizeof(Value) + 16));
      ChargeScan(value.as_string().size());
      List chars;
      std::string ch;
      for (char32_t c : DecodeUtf8(value.as_string())) {
        ch.clear();
        AppendUtf8(c, &ch);
        chars.emplace_back(ch);
      }
      return chars;
    }
    case Value::Kind::kUndefined:
      return {};
    default:
      ThrowRuntime(std::string("'") + value.TypeName() + "' object is not iterable");
  }
}

}  // namespace lantern::jinja
