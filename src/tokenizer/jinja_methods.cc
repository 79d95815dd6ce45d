// Methods of str, dict and list that templates call (`content.strip()`, `d.get('k')`). Only
// non-mutating ones: transformers renders in Jinja's ImmutableSandboxedEnvironment.
#include <algorithm>
#include <string_view>

#include "tokenizer/jinja_budget.h"
#include "tokenizer/jinja_builtins.h"
#include "tokenizer/jinja_error.h"
#include "tokenizer/jinja_text.h"

namespace lantern::jinja {
namespace {

constexpr std::string_view kStringMethods[] = {
    "strip",    "lstrip",  "rstrip",  "split",   "rsplit",     "startswith",
    "endswith", "upper",   "lower",   "title",   "capitalize", "replace",
    "find",     "rfind",   "count",   "join",    "format",     "isdigit",
    "isalpha",  "isalnum", "isspace", "islower", "isupper",    "splitlines"};
constexpr std::string_view kDictMethods[] = {"get", "items", "keys", "values"};
constexpr std::string_view kListMethods[] = {"index", "count"};

template <size_t N>
bool In(const std::string_view (&names)[N], std::string_view name) {
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

const std::string* OptionalString(const CallArgs& args, size_t index, std::string_view name) {
  const Value* v = args.Get(index, name);
  if (v == nullptr || v->is_none()) return nullptr;
  if (!v->is_string()) ThrowRuntime(std::string(name) + " must be a string or None");
  return &v->as_string();
}

long OptionalLong(const CallArgs& args, size_t index, std::string_view name, long dflt) {
  const Value* v = args.Get(index, name);
  return v == nullptr || v->is_none() ? dflt : static_cast<long>(ToInteger(*v, name));
}

const std::string& RequiredString(const CallArgs& args, size_t index, std::string_view method) {
  const Value* v = args.Get(index, "");
  if (v == nullptr || !v->is_string()) {
    ThrowRuntime(std::string(method) + "() argument " + std::to_string(index + 1) +
                 " must be a string");
  }
  return v->as_string();
}

bool AffixMatch(const std::string& s, const Value* arg, bool prefix, std::string_view method) {
  auto match = [&](const Value& v) {
    if (!v.is_string()) ThrowRuntime(std::string(method) + "() arguments must be strings");
    const std::string& a = v.as_string();
    if (a.size() > s.size()) return false;
    return prefix ? s.compare(0, a.size(), a) == 0
                  : s.compare(s.size() - a.size(), a.size(), a) == 0;
  };
  if (arg == nullptr) ThrowRuntime(std::string(method) + "() takes at least 1 argument");
  if (arg->is_list()) {
    for (const Value& v : arg->as_list()) {
      if (match(v)) return true;
    }
    return false;
  }
  return match(*arg);
}

// str.format with automatic ({}), numbered ({0}) and named ({name}) fields; no format specs.
std::string Format(const std::string& pattern, const CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if ((c == '{' || c == '}') && i + 1 < pattern.size() && pattern[i + 1] == c) {
      out += c;
      ++i;
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    size_t close = pattern.find('}', i);
    if (close == std::string::npos) ThrowRuntime("format(): single '{' encountered");
    std::string field = pattern.substr(i + 1, close - i - 1);
    if (field.find_first_of(":!") != std::string::npos) {
      ThrowRuntime("format(): format specifications are not supported");
    }
    const Value* v = nullptr;
    if (field.empty()) {
      v = auto_index < args.positional.size() ? &args.positional[auto_index++] : nullptr;
    } else if (std::all_of(field.begin(), field.end(),
                           [](char d) { return d >= '0' && d <= '9'; })) {
      size_t k = std::stoul(field);
      v = k < args.positional.size() ? &args.positional[k] : nullptr;
    } else {
      for (const auto& [key, value] : args.keyword) {
        if (key == field) v = &value;
      }
    }
    if (v == nullptr) ThrowRuntime("format(): no argument for field '{" + field + "}'");
    out += v->Str();
    CheckAllocation(out.size());
    i = close;
  }
  return out;
}

template <typename Pred>
Value AllChars(const std::string& s, Pred pred) {
  std::u32string cps = DecodeUtf8(s);
  return Value(!cps.empty() && std::all_of(cps.begin(), cps.end(), pred));
}

Value CallStringMethod(const std::string& s, std::string_view name, const CallArgs& args) {
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    StripSide side = name == "strip"    ? StripSide::kBoth
                     : name == "lstrip" ? StripSide::kLeft
                                        : StripSide::kRight;
    return Value(PythonStrip(s, OptionalString(args, 0, "chars"), side));
  }
  if (name == "split" || name == "rsplit") {
    long maxsplit = OptionalLong(args, 1, "maxsplit", -1);
    const std::string* sep = OptionalString(args, 0, "sep");
    if (name == "rsplit" && maxsplit >= 0) ThrowRuntime("rsplit() with maxsplit is not supported");
    List parts;
    for (std::string& part : PythonSplit(s, sep, maxsplit)) parts.emplace_back(std::move(part));
    return Value::MakeList(std::move(parts));
  }
  if (name == "splitlines") {
    List parts;
    size_t start = 0;
    while (start < s.size()) {
      size_t nl = s.find_first_of("\r\n", start);
      if (nl == std::string::npos) nl = s.size();
      parts.emplace_back(s.substr(start, nl - start));
      start = nl + ((nl + 1 < s.size() && s[nl] == '\r' && s[nl + 1] == '\n') ? 2 : 1);
    }
    return Value::MakeList(std::move(parts));
  }
  if (name == "startswith") return Value(AffixMatch(s, args.Get(0, "prefix"), true, name));
  if (name == "endswith") return Value(AffixMatch(s, args.Get(0, "suffix"), false, name));
  if (name == "upper") return Value(PythonUpper(s));
  if (name == "lower") return Value(PythonLower(s));
  if (name == "title") return Value(PythonTitle(s));
  if (name == "capitalize") return Value(PythonCapitalize(s));
  if (name == "replace") {
    return Value(PythonReplace(s, RequiredString(args, 0, name), RequiredString(args, 1, name),
                               OptionalLong(args, 2, "count", -1)));
  }
  if (name == "find" || name == "rfind" || name == "count") {
    const std::string& needle = RequiredString(args, 0, name);
    if (name == "count") {
      if (needle.empty()) return Value(static_cast<int64_t>(CodePointLength(s) + 1));
      int64_t n = 0;
      for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + needle.size()))
        ++n;
      return Value(n);
    }
    size_t p = name == "find" ? s.find(needle) : s.rfind(needle);
    return Value(p == std::string::npos ? int64_t{-1}
                                        : static_cast<int64_t>(CodePointLength(s.substr(0, p))));
  }
  if (name == "join") {
    const Value* items = args.Get(0, "iterable");
    if (items == nullptr) ThrowRuntime("join() takes exactly one argument");
    std::string out;
    bool first = true;
    for (const Value& item : IterateValue(*items)) {
      if (!item.is_string())
        ThrowRuntime(std::string("join(): expected str instance, ") + item.TypeName() + " found");
      if (!first) out += s;
      first = false;
      out += item.as_string();
      CheckAllocation(out.size());
    }
    return Value(std::move(out));
  }
  if (name == "format") return Value(Format(s, args));
  if (name == "isdigit") return AllChars(s, [](char32_t c) { return c >= '0' && c <= '9'; });
  if (name == "isspace") return AllChars(s, IsPythonSpace);
  if (name == "isalpha" || name == "isalnum") {
    bool alnum = name == "isalnum";
    return AllChars(s, [alnum](char32_t c) {
      if (alnum && c >= '0' && c <= '9') return true;
      return PythonUpper(EncodeUtf8(std::u32string(1, c))) !=
                 PythonLower(EncodeUtf8(std::u32string(1, c))) ||
             c > 0x2E80;
    });
  }
  // islower / isupper: some cased character and none of the other case.
  bool want_lower = name == "islower";
  return Value(s != (want_lower ? PythonUpper(s) : PythonLower(s)) &&
               s == (want_lower ? PythonLower(s) : PythonUpper(s)));
}

Value CallDictMethod(const Dict& dict, std::string_view name, const CallArgs& args) {
  if (name == "get") {
    const Value* key = args.Get(0, "key");
    if (key == nullptr) ThrowRuntime("get() takes at least 1 argument");
    const Value* found = key->is_string() ? dict.Find(key->as_string()) : nullptr;
    if (found) return *found;
    const Value* dflt = args.Get(1, "default");
    return dflt ? *dflt : Value::None();
  }
  List out;
  for (const auto& [key, value] : dict.entries()) {
    if (name == "keys") {
      out.emplace_back(key);
    } else if (name == "values") {
      out.push_back(value);
    } else {
      out.push_back(Value::MakeTuple({Value(key), value}));
    }
  }
  return Value::MakeList(std::move(out));
}

Value CallListMethod(const List& list, std::string_view name, const CallArgs& args) {
  const Value* needle = args.Get(0, "value");
  if (needle == nullptr) ThrowRuntime(std::string(name) + "() takes exactly one argument");
  ChargeSteps(static_cast<int64_t>(list.size() >> 3));
  int64_t count = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    if (!Equals(list[i], *needle)) continue;
    if (name == "index") return Value(static_cast<int64_t>(i));
    ++count;
  }
  if (name == "index") ThrowRuntime(needle->Repr() + " is not in list");
  return Value(count);
}

}  // namespace

bool HasMethod(const Value& object, std::string_view name) {
  if (object.is_string()) return In(kStringMethods, name);
  if (object.is_dict()) return In(kDictMethods, name);
  if (object.is_list()) return In(kListMethods, name);
  return false;
}

bool CallMethod(const Value& object, std::string_view name, const CallArgs& args, Value* result) {
  if (!HasMethod(object, name)) return false;
  if (object.is_string()) {
    *result = CallStringMethod(object.as_string(), name, args);
  } else if (object.is_dict()) {
    *result = CallDictMethod(object.as_dict(), name, args);
  } else {
    *result = CallListMethod(object.as_list(), name, args);
  }
  return true;
}

}  // namespace lantern::jinja
