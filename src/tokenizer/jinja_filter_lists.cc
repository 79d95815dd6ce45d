// Filters over sequences: sort, dictsort, min/max, unique, select/reject(attr) and map, with
// Jinja's attribute paths ("a.b.0") and case-insensitive string ordering.
#include <algorithm>

#include "tokenizer/jinja_builtins.h"
#include "tokenizer/jinja_error.h"
#include "tokenizer/jinja_text.h"

namespace lantern::jinja {
namespace {

bool BoolArg(const CallArgs& args, size_t index, std::string_view name, bool dflt) {
  const Value* v = args.Get(index, name);
  return v ? v->Truthy() : dflt;
}

// Jinja's attribute getter for filters: "a.b.0" walks items (item first, then attribute).
Value GetPath(const Value& item, const Value& path) {
  if (!path.is_string()) return GetItem(item, path);
  Value current = item;
  std::string_view rest = path.as_string();
  while (true) {
    size_t dot = rest.find('.');
    std::string part(rest.substr(0, dot));
    bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit);
    current = numeric ? GetItem(current, Value(static_cast<int64_t>(std::stoll(part))))
                      : GetItem(current, Value(part));
    if (dot == std::string_view::npos) return current;
    rest = rest.substr(dot + 1);
  }
}

// Sort key comparison: strings compare case-insensitively unless asked otherwise.
bool Less(const Value& a, const Value& b, bool case_sensitive) {
  bool ok = false;
  int c = (!case_sensitive && a.is_string() && b.is_string())
              ? Compare(Value(PythonLower(a.as_string())), Value(PythonLower(b.as_string())), &ok)
              : Compare(a, b, &ok);
  if (!ok) {
    ThrowRuntime(std::string("'<' not supported between instances of '") + a.TypeName() +
                 "' and '" + b.TypeName() + "'");
  }
  return c < 0;
}

}  // namespace

Value FilterKey(const Value& item, const CallArgs& args, size_t attribute_index) {
  const Value* attribute = args.Get(attribute_index, "attribute");
  return attribute && !attribute->is_none() ? GetPath(item, *attribute) : item;
}

Value SortFilter(const Value& v, const CallArgs& args) {
  bool reverse = BoolArg(args, 0, "reverse", false);
  bool case_sensitive = BoolArg(args, 1, "case_sensitive", false);
  List items = IterateValue(v);
  std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
    Value ka = FilterKey(a, args, 2), kb = FilterKey(b, args, 2);
    return reverse ? Less(kb, ka, case_sensitive) : Less(ka, kb, case_sensitive);
  });
  return Value::MakeList(std::move(items));
}

Value DictSortFilter(const Value& v, const CallArgs& args) {
  if (!v.is_dict()) ThrowRuntime("dictsort filter expects a dict");
  bool case_sensitive = BoolArg(args, 0, "case_sensitive", false);
  const Value* by = args.Get(1, "by");
  int pos = 0;
  if (by) {
    if (by->is_string() && by->as_string() == "value") {
      pos = 1;
    } else if (!by->is_string() || by->as_string() != "key") {
      ThrowRuntime("You can only sort by either \"key\" or \"value\"");
    }
  }
  bool reverse = BoolArg(args, 2, "reverse", false);
  List items;
  for (const auto& [key, value] : v.as_dict().entries())
    items.push_back(Value::MakeTuple({Value(key), value}));
  std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
    const Value& ka = a.as_list()[static_cast<size_t>(pos)];
    const Value& kb = b.as_list()[static_cast<size_t>(pos)];
    return reverse ? Less(kb, ka, case_sensitive) : Less(ka, kb, case_sensitive);
  });
  return Value::MakeList(std::move(items));
}

Value MinMaxFilter(const Value& v, const CallArgs& args, bool want_max) {
  bool case_sensitive = BoolArg(args, 0, "case_sensitive", false);
  List items = IterateValue(v);
  if (items.empty()) return Value();
  size_t best = 0;
  for (size_t i = 1; i < items.size(); ++i) {
    Value a = FilterKey(items[i], args, 1), b = FilterKey(items[best], args, 1);
    if (want_max ? Less(b, a, case_sensitive) : Less(a, b, case_sensitive)) best = i;
  }
  return items[best];
}

Value UniqueFilter(const Value& v, const CallArgs& args) {
  bool case_sensitive = BoolArg(args, 0, "case_sensitive", false);
  List out, seen;
  for (const Value& item : IterateValue(v)) {
    Value key = FilterKey(item, args, 1);
    if (!case_sensitive && key.is_string()) key = Value(PythonLower(key.as_string()));
    if (std::any_of(seen.begin(), seen.end(), [&](const Value& s) { return Equals(s, key); }))
      continue;
    seen.push_back(key);
    out.push_back(item);
  }
  return Value::MakeList(std::move(out));
}

// select / reject / selectattr / rejectattr.
Value SelectFilter(const Value& v, const CallArgs& args, bool by_attribute, bool select) {
  size_t test_index = by_attribute ? 1 : 0;
  const Value* attribute = by_attribute ? args.Get(0, "") : nullptr;
  if (by_attribute && (attribute == nullptr || !attribute->is_string())) {
    ThrowRuntime("selectattr/rejectattr need an attribute name");
  }
  const Value* test = args.positional.size() > test_index ? &args.positional[test_index] : nullptr;
  CallArgs test_args;
  for (size_t i = test_index + 1; i < args.positional.size(); ++i) {
    test_args.positional.push_back(args.positional[i]);
  }
  List out;
  for (const Value& item : IterateValue(v)) {
    Value subject = attribute ? GetPath(item, *attribute) : item;
    bool passed = test ? ApplyTest(test->Str(), subject, test_args) : subject.Truthy();
    if (passed == select) out.push_back(item);
  }
  return Value::MakeList(std::move(out));
}

Value MapFilter(const Value& v, const CallArgs& args) {
  List out;
  const Value* attribute = args.Get(SIZE_MAX, "attribute");
  if (attribute) {
    const Value* dflt = args.Get(SIZE_MAX, "default");
    for (const Value& item : IterateValue(v)) {
      Value mapped = GetPath(item, *attribute);
      out.push_back(mapped.is_undefined() && dflt ? *dflt : mapped);
    }
    return Value::MakeList(std::move(out));
  }
  if (args.positional.empty() || !args.positional[0].is_string()) {
    ThrowRuntime("map filter needs a filter name or attribute=");
  }
  CallArgs rest;
  rest.positional.assign(args.positional.begin() + 1, args.positional.end());
  rest.keyword = args.keyword;
  for (const Value& item : IterateValue(v)) {
    out.push_back(ApplyFilter(args.positional[0].as_string(), item, rest));
  }
  return Value::MakeList(std::move(out));
}

}  // namespace lantern::jinja
