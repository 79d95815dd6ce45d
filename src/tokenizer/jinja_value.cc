#include "tokenizer/jinja_value.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "tokenizer/jinja_budget.h"

namespace lantern::jinja {

const Value* Dict::Find(std::string_view key) const {
  for (const Entry& e : entries_) {
    if (e.first == key) return &e.second;
  }
  return nullptr;
}

Value* Dict::Find(std::string_view key) {
  for (Entry& e : entries_) {
    if (e.first == key) return &e.second;
  }
  return nullptr;
}

void Dict::Set(std::string key, Value value) {
  if (Value* existing = Find(key)) {
    *existing = std::move(value);
    return;
  }
  entries_.emplace_back(std::move(key), std::move(value));
}

const Value* CallArgs::Get(size_t index, std::string_view name) const {
  for (const auto& [key, value] : keyword) {
    if (key == name) return &value;
  }
  return index < positional.size() ? &positional[index] : nullptr;
}

Value::Value(std::string s) : kind_(Kind::kString) {
  ChargeAllocation(s.size());
  data_ = std::make_shared<const std::string>(std::move(s));
}

namespace {

// Containers are freed without recursion: a list nested a million levels deep (which a
// template can build in a loop) would otherwise overflow the C++ stack in its destructor.
// The outermost deleter on a thread drains the contents of everything it frees in a loop.
thread_local std::vector<Value>* pending_frees = nullptr;

template <typename Container, typename Drain>
void FreeIteratively(Container* container, Drain drain) {
  if (pending_frees != nullptr) {
    drain(*container, *pending_frees);
    delete container;
    return;
  }
  std::vector<Value> pending;
  pending_frees = &pending;
  drain(*container, pending);
  delete container;
  while (!pending.empty()) {
    Value last = std::move(pending.back());
    pending.pop_back();
    // `last` is destroyed here; a container it frees appends its contents to `pending`.
  }
  pending_frees = nullptr;
}

void DrainList(List& list, std::vector<Value>& out) {
  for (Value& v : list) {
    if (v.is_list() || v.is_dict() || v.is_namespace()) out.push_back(std::move(v));
  }
}

}  // namespace

void Value::ListDeleter::operator()(List* list) const { FreeIteratively(list, DrainList); }

void Value::DictDeleter::operator()(Dict* dict) const {
  FreeIteratively(dict, [](Dict& d, std::vector<Value>& out) { d.DrainContainers(out); });
}

void Dict::DrainContainers(std::vector<Value>& out) {
  for (Entry& e : entries_) {
    if (e.second.is_list() || e.second.is_dict() || e.second.is_namespace()) {
      out.push_back(std::move(e.second));
    }
  }
}

Value Value::None() {
  Value v;
  v.kind_ = Kind::kNone;
  return v;
}

Value Value::MakeList(List items) {
  ChargeAllocation(items.size() * sizeof(Value));
  Value v;
  v.kind_ = Kind::kList;
  v.data_ = ListPtr(new List(std::move(items)), ListDeleter());
  return v;
}

Value Value::MakeTuple(List items) {
  Value v = MakeList(std::move(items));
  v.tuple_ = true;
  return v;
}

Value Value::MakeDict(Dict dict) {
  Value v;
  v.kind_ = Kind::kDict;
  v.data_ = DictPtr(new Dict(std::move(dict)), DictDeleter());
  return v;
}

Value Value::MakeNamespace(Dict attributes) {
  Value v = MakeDict(std::move(attributes));
  v.kind_ = Kind::kNamespace;
  return v;
}

Value Value::MakeFunction(Function fn) {
  Value v;
  v.kind_ = Kind::kFunction;
  v.data_ = std::make_shared<const Function>(std::move(fn));
  return v;
}

double Value::as_double() const {
  if (is_float()) return std::get<double>(data_);
  return static_cast<double>(as_int());
}

bool Value::Truthy() const {
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNone:
      return false;
    case Kind::kBool:
      return as_bool();
    case Kind::kInt:
      return as_int() != 0;
    case Kind::kFloat:
      return as_double() != 0.0;
    case Kind::kString:
      return !as_string().empty();
    case Kind::kList:
      return !as_list().empty();
    case Kind::kDict:
      return !as_dict().empty();
    case Kind::kNamespace:
    case Kind::kFunction:
      return true;
  }
  return false;
}

std::string FormatPythonFloat(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  char buf[64];
  // Shortest round-trip digits in scientific form: [-]d[.ddd]e[+-]XX.
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::scientific);
  std::string sci(buf, end);
  bool negative = sci[0] == '-';
  if (negative) sci.erase(0, 1);
  size_t e_pos = sci.find('e');
  std::string digits = sci.substr(0, e_pos);
  int exponent = std::stoi(sci.substr(e_pos + 1));
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  std::string out = negative ? "-" : "";
  // Built with append(): gcc 12 mis-warns (-Wrestrict) on chains of std::string operator+.
  if (exponent >= -4 && exponent < 16) {  // where Python repr switches notation
    size_t point = static_cast<size_t>(exponent + 1);
    if (exponent < 0) {
      out.append("0.").append(static_cast<size_t>(-exponent - 1), '0').append(digits);
    } else if (digits.size() <= point) {
      out.append(digits).append(point - digits.size(), '0').append(".0");
    } else {
      out.append(digits, 0, point).append(".").append(digits, point);
    }
    return out;
  }
  out.append(digits, 0, 1);
  if (digits.size() > 1) out.append(".").append(digits, 1);
  char exp_buf[16];
  std::snprintf(exp_buf, sizeof(exp_buf), "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
  return out + exp_buf;
}

namespace {

std::string ReprString(const std::string& s) {
  char quote = (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) ? '"' : '\'';
  std::string out(1, quote);
  for (unsigned char c : s) {
    if (c == '\\' || c == static_cast<unsigned char>(quote)) {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[16];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += quote;
  return out;
}

}  // namespace

std::string Value::Str() const {
  switch (kind_) {
    case Kind::kUndefined:
      return "";
    case Kind::kString:
      return as_string();
    default:
      return Repr();
  }
}

std::string Value::Repr() const {
  std::string out;
  AppendRepr(0, &out);
  return out;
}

void Value::AppendRepr(int depth, std::string* out) const {
  switch (kind_) {
    case Kind::kUndefined:
      return;
    case Kind::kNone:
      out->append("None");
      return;
    case Kind::kBool:
      out->append(as_bool() ? "True" : "False");
      return;
    case Kind::kInt:
      out->append(std::to_string(as_int()));
      return;
    case Kind::kFloat:
      out->append(FormatPythonFloat(as_double()));
      return;
    case Kind::kString:
      ChargeScan(as_string().size());
      CheckAllocation(out->size() + as_string().size());
      out->append(ReprString(as_string()));
      return;
    case Kind::kFunction:
      out->append("<function>");
      return;
    case Kind::kList:
    case Kind::kDict:
    case Kind::kNamespace:
      break;
  }
  // A container: one step per element, and the text so far within the allocation budget.
  CheckValueDepth(depth);
  if (is_list()) {
    const List& items = as_list();
    ChargeSteps(1 + static_cast<int64_t>(items.size()));
    out->append(tuple_ ? "(" : "[");
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out->append(", ");
      CheckAllocation(out->size());
      items[i].AppendRepr(depth + 1, out);
    }
    out->append(tuple_ ? (items.size() == 1 ? ",)" : ")") : "]");
    return;
  }
  const Dict& dict = as_dict();
  ChargeSteps(1 + static_cast<int64_t>(dict.size()));
  out->append(is_namespace() ? "<Namespace {" : "{");
  bool first = true;
  for (const auto& [key, value] : dict.entries()) {
    if (!first) out->append(", ");
    first = false;
    CheckAllocation(out->size() + key.size());
    out->append(ReprString(key)).append(": ");
    value.AppendRepr(depth + 1, out);
  }
  out->append(is_namespace() ? "}>" : "}");
}

const char* Value::TypeName() const {
  switch (kind_) {
    case Kind::kUndefined:
      return "undefined";
    case Kind::kNone:
      return "NoneType";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return "str";
    case Kind::kList:
      return "list";
    case Kind::kDict:
      return "dict";
    case Kind::kNamespace:
      return "Namespace";
    case Kind::kFunction:
      return "function";
  }
  return "object";
}

bool Value::shared() const {
  if (is_list()) return std::get<ListPtr>(data_).use_count() > 1;
  if (is_dict() || is_namespace()) return std::get<DictPtr>(data_).use_count() > 1;
  return false;
}

const void* Value::identity() const {
  if (is_list()) return &as_list();
  if (is_dict() || is_namespace()) return &as_dict();
  if (is_function()) return &as_function();
  return nullptr;
}

namespace {

bool EqualsAt(const Value& a, const Value& b, int depth) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_double() == b.as_double();
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone:
      return true;
    case Value::Kind::kString:
      ChargeScan(std::min(a.as_string().size(), b.as_string().size()));
      return a.as_string() == b.as_string();
    case Value::Kind::kList: {
      CheckValueDepth(depth);
      const List& x = a.as_list();
      const List& y = b.as_list();
      if (x.size() != y.size()) return false;
      if (&x == &y) return true;
      ChargeSteps(1 + static_cast<int64_t>(x.size()));
      for (size_t i = 0; i < x.size(); ++i) {
        if (!EqualsAt(x[i], y[i], depth + 1)) return false;
      }
      return true;
    }
    case Value::Kind::kDict: {
      CheckValueDepth(depth);
      const Dict& x = a.as_dict();
      const Dict& y = b.as_dict();
      if (x.size() != y.size()) return false;
      if (&x == &y) return true;
      ChargeSteps(1 + static_cast<int64_t>(x.size() * x.size()));  // Find is linear
      for (const auto& [key, value] : x.entries()) {
        const Value* other = y.Find(key);
        if (other == nullptr || !EqualsAt(value, *other, depth + 1)) return false;
      }
      return true;
    }
    default:
      return a.identity() == b.identity();
  }
}

int CompareAt(const Value& a, const Value& b, bool* ok, int depth) {
  *ok = true;
  if (a.is_number() && b.is_number()) {
    if (!a.is_float() && !b.is_float()) {
      return a.as_int() < b.as_int() ? -1 : (a.as_int() > b.as_int() ? 1 : 0);
    }
    double x = a.as_double(), y = b.as_double();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  if (a.is_string() && b.is_string()) {
    // UTF-8 byte order equals code point order, which is what Python compares.
    ChargeScan(std::min(a.as_string().size(), b.as_string().size()));
    int c = a.as_string().compare(b.as_string());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (a.is_list() && b.is_list()) {
    CheckValueDepth(depth);
    const List& x = a.as_list();
    const List& y = b.as_list();
    ChargeSteps(1 + static_cast<int64_t>(std::min(x.size(), y.size())));
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (EqualsAt(x[i], y[i], depth + 1)) continue;
      return CompareAt(x[i], y[i], ok, depth + 1);
    }
    return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
  }
  *ok = false;
  return 0;
}

}  // namespace

bool Equals(const Value& a, const Value& b) { return EqualsAt(a, b, 0); }

int Compare(const Value& a, const Value& b, bool* ok) { return CompareAt(a, b, ok, 0); }

}  // namespace lantern::jinja
