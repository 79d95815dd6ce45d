// Jinja's tests (`x is defined`) and the global functions chat templates call.
#include "tokenizer/jinja_builtins.h"

#include <cmath>
#include <ctime>
#include <memory>

#include "tokenizer/jinja_budget.h"
#include "tokenizer/jinja_error.h"
#include "tokenizer/jinja_text.h"

namespace lantern::jinja {
namespace {

constexpr int64_t kMaxRangeLength = 10'000'000;

const Value& RequiredArg(const CallArgs& args, std::string_view test) {
  if (args.positional.empty()) ThrowRuntime("test '" + std::string(test) + "' needs an argument");
  return args.positional[0];
}

bool CompareTest(const Value& a, const Value& b, BinaryOp op) {
  return BinaryOperation(op, a, b).Truthy();
}

Value Range(const CallArgs& args) {
  if (args.positional.empty() || args.positional.size() > 3) {
    ThrowRuntime("range expected 1 to 3 arguments");
  }
  int64_t start = 0, stop = 0, step = 1;
  if (args.positional.size() == 1) {
    stop = ToInteger(args.positional[0], "range stop");
  } else {
    start = ToInteger(args.positional[0], "range start");
    stop = ToInteger(args.positional[1], "range stop");
    if (args.positional.size() == 3) step = ToInteger(args.positional[2], "range step");
  }
  if (step == 0) ThrowRuntime("range() arg 3 must not be zero");
  double count = std::ceil((static_cast<double>(stop) - static_cast<double>(start)) /
                           static_cast<double>(step));
  if (count > static_cast<double>(kMaxRangeLength)) ThrowRuntime("range too large");
  if (count > 0) CheckAllocation(static_cast<size_t>(count) * sizeof(Value));
  List out;
  if (count > 0) out.reserve(static_cast<size_t>(count));
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.emplace_back(i);
  return Value::MakeList(std::move(out));
}

// namespace(mapping?, **attributes): a mutable object for state that outlives a loop body.
Value MakeNamespace(const CallArgs& args) {
  Dict attributes;
  if (!args.positional.empty()) {
    const Value& init = args.positional[0];
    if (!init.is_dict()) ThrowRuntime("namespace() positional argument must be a dict");
    for (const auto& [key, value] : init.as_dict().entries()) attributes.Set(key, value);
  }
  for (const auto& [key, value] : args.keyword) attributes.Set(key, value);
  return Value::MakeNamespace(std::move(attributes));
}

Value StrftimeNow(const CallArgs& args) {
  const Value* format = args.Get(0, "format");
  if (format == nullptr || !format->is_string())
    ThrowRuntime("strftime_now(format) needs a string");
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  CheckAllocation(format->as_string().size() * 4 + 64);
  std::string buf(format->as_string().size() * 4 + 64, '\0');
  size_t n = std::strftime(buf.data(), buf.size(), format->as_string().c_str(), &local);
  buf.resize(n);
  return Value(std::move(buf));
}

Scope* BuildGlobals() {
  auto* scope = new Scope();
  scope->Set("range", Value::MakeFunction(Range));
  scope->Set("namespace", Value::MakeFunction(MakeNamespace));
  scope->Set("dict", Value::MakeFunction([](const CallArgs& args) {
               Dict dict;
               for (const auto& [key, value] : args.keyword) dict.Set(key, value);
               return Value::MakeDict(std::move(dict));
             }));
  scope->Set("raise_exception", Value::MakeFunction([](const CallArgs& args) -> Value {
               const Value* message = args.Get(0, "message");
               throw Error(Error::Kind::kRaised, message ? message->Str() : "");
             }));
  scope->Set("strftime_now", Value::MakeFunction(StrftimeNow));
  scope->Set("joiner", Value::MakeFunction([](const CallArgs& args) {
               const Value* sep = args.Get(0, "sep");
               std::string separator = sep ? sep->Str() : ", ";
               auto used = std::make_shared<bool>(false);
               return Value::MakeFunction([separator, used](const CallArgs&) {
                 if (!*used) {
                   *used = true;
                   return Value("");
                 }
                 return Value(separator);
               });
             }));
  return scope;
}

}  // namespace

int64_t ToInteger(const Value& value, std::string_view what) {
  if (value.is_int() || value.is_bool()) return value.as_int();
  ThrowRuntime(std::string(what) + " must be an integer, got " + value.TypeName());
}

const Scope& GlobalFunctions() {
  static const Scope* globals = BuildGlobals();
  return *globals;
}

bool ApplyTest(std::string_view name, const Value& v, const CallArgs& args) {
  using K = Value::Kind;
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "integer") return v.is_int();
  if (name == "float") return v.is_float();
  if (name == "number") return v.is_number();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_dict();
  if (name == "iterable") {
    return v.kind() == K::kList || v.kind() == K::kDict || v.kind() == K::kString ||
           v.kind() == K::kUndefined;
  }
  if (name == "sequence") return v.is_list() || v.is_dict() || v.is_string() || v.is_undefined();
  if (name == "callable") return v.is_function();
  if (name == "escaped") return false;
  if (name == "odd" || name == "even" || name == "divisibleby") {
    int64_t divisor = name == "divisibleby" ? ToInteger(RequiredArg(args, name), "divisor") : 2;
    if (divisor == 0) ThrowRuntime("integer division or modulo by zero");
    Value rem = BinaryOperation(BinaryOp::kMod, v, Value(divisor));
    bool zero = !rem.Truthy();
    return name == "odd" ? !zero : zero;
  }
  if (name == "lower" || name == "upper") {
    std::string s = v.Str();
    std::string lower = PythonLower(s), upper = PythonUpper(s);
    return name == "lower" ? (s == lower && s != upper) : (s == upper && s != lower);
  }
  if (name == "equalto" || name == "eq" || name == "==") return Equals(v, RequiredArg(args, name));
  if (name == "ne" || name == "!=") return !Equals(v, RequiredArg(args, name));
  if (name == "lt" || name == "lessthan" || name == "<") {
    return CompareTest(v, RequiredArg(args, name), BinaryOp::kLt);
  }
  if (name == "le" || name == "<=") return CompareTest(v, RequiredArg(args, name), BinaryOp::kLe);
  if (name == "gt" || name == "greaterthan" || name == ">") {
    return CompareTest(v, RequiredArg(args, name), BinaryOp::kGt);
  }
  if (name == "ge" || name == ">=") return CompareTest(v, RequiredArg(args, name), BinaryOp::kGe);
  if (name == "in") return Contains(RequiredArg(args, name), v);
  if (name == "sameas") {
    const Value& other = RequiredArg(args, name);
    if (v.identity() != nullptr || other.identity() != nullptr)
      return v.identity() == other.identity();
    return v.kind() == other.kind() && Equals(v, other);
  }
  ThrowRuntime("no test named '" + std::string(name) + "'");
}

}  // namespace lantern::jinja
