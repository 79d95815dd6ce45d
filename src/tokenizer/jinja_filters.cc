// Jinja's built-in filters as jinja2/filters.py defines them, with `tojson` as transformers
// overrides it (json.dumps with ensure_ascii=False).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>

#include "tokenizer/jinja_budget.h"
#include "tokenizer/jinja_builtins.h"
#include "tokenizer/jinja_error.h"
#include "tokenizer/jinja_json.h"
#include "tokenizer/jinja_text.h"

namespace lantern::jinja {
namespace {

using FilterFn = Value (*)(const Value&, const CallArgs&);

bool BoolArg(const CallArgs& args, size_t index, std::string_view name, bool dflt) {
  const Value* v = args.Get(index, name);
  return v ? v->Truthy() : dflt;
}

Value Indent(const Value& v, const CallArgs& args) {
  const Value* width = args.Get(0, "width");
  int64_t pad_width =
      width == nullptr || width->is_string() ? 0 : std::max<int64_t>(0, ToInteger(*width, "width"));
  CheckAllocation(static_cast<size_t>(pad_width));
  std::string pad = width == nullptr     ? "    "
                    : width->is_string() ? width->as_string()
                                         : std::string(static_cast<size_t>(pad_width), ' ');
  bool first = BoolArg(args, 1, "first", false);
  bool blank = BoolArg(args, 2, "blank", false);
  std::string s = v.Str() + "\n";
  std::vector<std::string> lines;  // str.splitlines() on \n, \r\n and \r
  size_t start = 0;
  while (start < s.size()) {
    size_t nl = s.find_first_of("\r\n", start);
    lines.push_back(s.substr(start, nl - start));
    start = nl + ((s[nl] == '\r' && nl + 1 < s.size() && s[nl + 1] == '\n') ? 2 : 1);
  }
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += "\n";
    if (i > 0 && (blank || !lines[i].empty())) out += pad;
    out += lines[i];
    CheckAllocation(out.size());
  }
  return Value(first ? pad + out : out);
}

Value ToJsonFilter(const Value& v, const CallArgs& args) {
  JsonFormat format;
  format.ensure_ascii = BoolArg(args, 0, "ensure_ascii", false);  // transformers' signature
  if (const Value* indent = args.Get(1, "indent"); indent && !indent->is_none()) {
    format.indent = static_cast<int>(ToInteger(*indent, "indent"));
  }
  if (const Value* sep = args.Get(2, "separators"); sep && !sep->is_none()) {
    if (!sep->is_list() || sep->as_list().size() != 2 || !sep->as_list()[0].is_string() ||
        !sep->as_list()[1].is_string()) {
      ThrowRuntime("tojson: separators must be a pair of strings");
    }
    format.item_separator = sep->as_list()[0].as_string();
    format.key_separator = sep->as_list()[1].as_string();
    if (format.item_separator.empty()) format.item_separator = ",";
  }
  format.sort_keys = BoolArg(args, 3, "sort_keys", false);
  return Value(ToJson(v, format));
}

Value ToInt(const Value& v, const CallArgs& args) {
  const Value* dflt = args.Get(0, "default");
  Value fallback = dflt ? *dflt : Value(0);
  if (v.is_float()) {
    if (!std::isfinite(v.as_double())) return fallback;
    return Value(static_cast<int64_t>(std::trunc(v.as_double())));
  }
  if (v.is_number()) return Value(v.as_int());
  if (!v.is_string()) return fallback;
  std::string s = PythonStrip(v.as_string(), nullptr, StripSide::kBoth);
  int base =
      static_cast<int>(ToInteger(args.Get(1, "base") ? *args.Get(1, "base") : Value(10), "base"));
  char* end = nullptr;
  errno = 0;
  long long i = std::strtoll(s.c_str(), &end, base);
  if (!s.empty() && end == s.c_str() + s.size() && errno == 0)
    return Value(static_cast<int64_t>(i));
  double d = std::strtod(s.c_str(), &end);  // int("3.7") fails in Python but int(float()) is tried
  if (!s.empty() && end == s.c_str() + s.size() && std::isfinite(d))
    return Value(static_cast<int64_t>(d));
  return fallback;
}

Value ToFloat(const Value& v, const CallArgs& args) {
  const Value* dflt = args.Get(0, "default");
  if (v.is_number()) return Value(v.as_double());
  if (v.is_string()) {
    std::string s = PythonStrip(v.as_string(), nullptr, StripSide::kBoth);
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size()) return Value(d);
  }
  return dflt ? *dflt : Value(0.0);
}

Value Round(const Value& v, const CallArgs& args) {
  int64_t precision =
      args.Get(0, "precision") ? ToInteger(*args.Get(0, "precision"), "precision") : 0;
  const Value* method = args.Get(1, "method");
  std::string m = method ? method->Str() : "common";
  double scale = std::pow(10.0, static_cast<double>(precision));
  double x = v.as_double() * scale;
  double r = m == "common"  ? std::nearbyint(x)
             : m == "ceil"  ? std::ceil(x)
             : m == "floor" ? std::floor(x)
                            : (ThrowRuntime("method must be common, ceil or floor"), 0.0);
  return Value(r / scale);
}

Value Join(const Value& v, const CallArgs& args) {
  const Value* sep = args.Get(0, "d");
  std::string separator = sep ? sep->Str() : "";
  std::vector<std::string> parts;
  size_t total = 0;
  for (const Value& item : IterateValue(v)) {
    if (!parts.empty()) total += separator.size();
    parts.push_back(FilterKey(item, args, 1).Str());
    total += parts.back().size();
    CheckAllocation(total);
  }
  std::string out;
  out.reserve(total);
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += separator;
    out += parts[i];
  }
  return Value(std::move(out));
}

Value Length(const Value& v, const CallArgs&) {
  if (v.is_string()) return Value(static_cast<int64_t>(CodePointLength(v.as_string())));
  if (v.is_list()) return Value(static_cast<int64_t>(v.as_list().size()));
  if (v.is_dict() || v.is_namespace()) return Value(static_cast<int64_t>(v.as_dict().size()));
  if (v.is_undefined()) return Value(0);
  ThrowRuntime(std::string("object of type '") + v.TypeName() + "' has no len()");
}

// Jinja's title filter: words start after whitespace and - ( { [ <.
Value Title(const Value& v, const CallArgs&) {
  std::u32string cps = DecodeUtf8(v.Str());
  std::string out;
  bool word_start = true;
  for (char32_t c : cps) {
    std::string ch = EncodeUtf8(std::u32string(1, c));
    bool boundary = IsPythonSpace(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<';
    out += boundary ? ch : (word_start ? PythonUpper(ch) : PythonLower(ch));
    word_start = boundary;
  }
  return Value(std::move(out));
}

Value PrintfFormat(const Value& v, const CallArgs& args) {
  const std::string& f = v.Str();
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%' || i + 1 >= f.size()) {
      out += f[i];
      continue;
    }
    char spec = f[++i];
    if (spec == '%') {
      out += '%';
      continue;
    }
    if (next >= args.positional.size())
      ThrowRuntime("format: not enough arguments for format string");
    const Value& arg = args.positional[next++];
    if (spec == 's')
      out += arg.Str();
    else if (spec == 'r')
      out += arg.Repr();
    else if (spec == 'd' || spec == 'i')
      out += std::to_string(arg.is_float() ? static_cast<int64_t>(arg.as_double())
                                           : ToInteger(arg, "%d"));
    else
      ThrowRuntime(std::string("format: unsupported conversion %") + spec);
    CheckAllocation(out.size());
  }
  return Value(std::move(out));
}

const std::unordered_map<std::string_view, FilterFn>& Filters() {
  static const auto* filters = new std::unordered_map<std::string_view, FilterFn>{
      {"abs",
       [](const Value& v, const CallArgs&) -> Value {
         if (v.is_float()) return Value(std::fabs(v.as_double()));
         if (!v.is_number())
           ThrowRuntime(std::string("bad operand type for abs(): '") + v.TypeName() + "'");
         return Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
       }},
      {"attr",
       [](const Value& v, const CallArgs& a) {
         return GetAttribute(v, a.Get(0, "name") ? a.Get(0, "name")->Str() : "");
       }},
      {"capitalize",
       [](const Value& v, const CallArgs&) { return Value(PythonCapitalize(v.Str())); }},
      {"count", Length},
      {"default",
       [](const Value& v, const CallArgs& a) {
         const Value* d = a.Get(0, "default_value");
         if (v.is_undefined() || (BoolArg(a, 1, "boolean", false) && !v.Truthy()))
           return d ? *d : Value("");
         return v;
       }},
      {"dictsort", DictSortFilter},
      {"escape", [](const Value& v, const CallArgs&) { return Value(HtmlEscape(v.Str())); }},
      {"first",
       [](const Value& v, const CallArgs&) {
         if (v.is_list()) return v.as_list().empty() ? Value() : v.as_list().front();
         List l = IterateValue(v);
         return l.empty() ? Value() : l.front();
       }},
      {"float", ToFloat},
      {"format", PrintfFormat},
      {"indent", Indent},
      {"int", ToInt},
      {"items",
       [](const Value& v, const CallArgs&) -> Value {
         if (v.is_undefined()) return Value::MakeList();
         if (!v.is_dict())
           ThrowRuntime(std::string("items filter expects a dict, got ") + v.TypeName());
         CallArgs none;
         Value out;
         CallMethod(v, "items", none, &out);
         return out;
       }},
      {"join", Join},
      {"last",
       [](const Value& v, const CallArgs&) {
         if (v.is_list()) return v.as_list().empty() ? Value() : v.as_list().back();
         List l = IterateValue(v);
         return l.empty() ? Value() : l.back();
       }},
      {"length", Length},
      {"list", [](const Value& v, const CallArgs&) { return Value::MakeList(IterateValue(v)); }},
      {"lower", [](const Value& v, const CallArgs&) { return Value(PythonLower(v.Str())); }},
      {"map", MapFilter},
      {"max", [](const Value& v, const CallArgs& a) { return MinMaxFilter(v, a, true); }},
      {"min", [](const Value& v, const CallArgs& a) { return MinMaxFilter(v, a, false); }},
      {"reject",
       [](const Value& v, const CallArgs& a) { return SelectFilter(v, a, false, false); }},
      {"rejectattr",
       [](const Value& v, const CallArgs& a) { return SelectFilter(v, a, true, false); }},
      {"replace",
       [](const Value& v, const CallArgs& a) {
         const Value* from = a.Get(0, "old");
         const Value* to = a.Get(1, "new");
         if (!from || !to) ThrowRuntime("replace filter needs old and new strings");
         const Value* count = a.Get(2, "count");
         long n = count && !count->is_none() ? static_cast<long>(ToInteger(*count, "count")) : -1;
         return Value(PythonReplace(v.Str(), from->Str(), to->Str(), n));
       }},
      {"reverse",
       [](const Value& v, const CallArgs&) -> Value {
         if (v.is_string()) {
           std::u32string cps = DecodeUtf8(v.as_string());
           std::reverse(cps.begin(), cps.end());
           return Value(EncodeUtf8(cps));
         }
         List l = IterateValue(v);
         std::reverse(l.begin(), l.end());
         return Value::MakeList(std::move(l));
       }},
      {"round", Round},
      {"safe", [](const Value& v, const CallArgs&) { return v; }},
      {"select", [](const Value& v, const CallArgs& a) { return SelectFilter(v, a, false, true); }},
      {"selectattr",
       [](const Value& v, const CallArgs& a) { return SelectFilter(v, a, true, true); }},
      {"sort", SortFilter},
      {"string", [](const Value& v, const CallArgs&) { return Value(v.Str()); }},
      {"sum",
       [](const Value& v, const CallArgs& a) {
         const Value* start = a.Get(1, "start");
         Value total = start ? *start : Value(0);
         for (const Value& item : IterateValue(v))
           total = BinaryOperation(BinaryOp::kAdd, total, FilterKey(item, a, 0));
         return total;
       }},
      {"title", Title},
      {"tojson", ToJsonFilter},
      {"trim",
       [](const Value& v, const CallArgs& a) {
         const Value* chars = a.Get(0, "chars");
         std::string set = chars && !chars->is_none() ? chars->Str() : "";
         return Value(
             PythonStrip(v.Str(), chars && !chars->is_none() ? &set : nullptr, StripSide::kBoth));
       }},
      {"unique", UniqueFilter},
      {"upper", [](const Value& v, const CallArgs&) { return Value(PythonUpper(v.Str())); }},
      {"wordcount",
       [](const Value& v, const CallArgs&) {
         return Value(static_cast<int64_t>(PythonSplit(v.Str(), nullptr, -1).size()));
       }},
  };
  return *filters;
}

}  // namespace

Value ApplyFilter(std::string_view name, const Value& operand, const CallArgs& args) {
  if (name == "d") name = "default";
  if (name == "e") name = "escape";
  auto it = Filters().find(name);
  if (it == Filters().end()) ThrowRuntime("no filter named '" + std::string(name) + "'");
  return it->second(operand, args);
}

}  // namespace lantern::jinja
