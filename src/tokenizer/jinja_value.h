// The runtime value of the Jinja interpreter: Python's object model reduced to what chat
// templates use. Lists, dicts and namespaces are shared by reference like Python objects, so
// `ns.x = ...` and `list.append(...)` are visible through every alias.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace lantern::jinja {

class Value;
using List = std::vector<Value>;

// An insertion-ordered mapping with string keys (Python dict as chat templates see it).
class Dict {
 public:
  using Entry = std::pair<std::string, Value>;

  const Value* Find(std::string_view key) const;
  Value* Find(std::string_view key);
  void Set(std::string key, Value value);
  const std::vector<Entry>& entries() const { return entries_; }
  size_t size() const;  // defined below Value: clang needs Value complete here
  bool empty() const;
  // Moves the list, dict and namespace values out (for freeing them without recursion).
  void DrainContainers(std::vector<Value>& out);

 private:
  std::vector<Entry> entries_;
};

// Positional and keyword arguments of a call, as written at the call site.
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;

  // The argument named `name`, else positional argument `index`, else nullptr.
  const Value* Get(size_t index, std::string_view name) const;
};

using Function = std::function<Value(const CallArgs&)>;

class Value {
 public:
  enum class Kind : uint8_t {
    kUndefined,
    kNone,
    kBool,
    kInt,
    kFloat,
    kString,
    kList,
    kDict,
    kNamespace,
    kFunction,
  };

  Value() = default;                                      // undefined
  Value(bool b) : kind_(Kind::kBool), data_(b) {}         // NOLINT: implicit like Python literals
  Value(int i) : kind_(Kind::kInt), data_(int64_t{i}) {}  // NOLINT
  Value(int64_t i) : kind_(Kind::kInt), data_(i) {}       // NOLINT
  Value(double f) : kind_(Kind::kFloat), data_(f) {}      // NOLINT
  Value(std::string s);                                   // NOLINT
  Value(std::string_view s) : Value(std::string(s)) {}    // NOLINT
  Value(const char* s) : Value(std::string(s)) {}         // NOLINT

  static Value None();
  static Value MakeList(List items = {});
  // A list that prints as a Python tuple: (1, 2). Otherwise it behaves as a list.
  static Value MakeTuple(List items);
  static Value MakeDict(Dict dict = {});
  static Value MakeNamespace(Dict attributes = {});
  static Value MakeFunction(Function fn);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  // Python's numbers.Number: bool counts as a number.
  bool is_number() const { return is_int() || is_float() || is_bool(); }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_tuple() const { return kind_ == Kind::kList && tuple_; }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_namespace() const { return kind_ == Kind::kNamespace; }
  bool is_function() const { return kind_ == Kind::kFunction; }

  bool as_bool() const { return std::get<bool>(data_); }
  int64_t as_int() const { return is_bool() ? (as_bool() ? 1 : 0) : std::get<int64_t>(data_); }
  // Any number as a double (bool and int convert).
  double as_double() const;
  const std::string& as_string() const { return *std::get<StringPtr>(data_); }
  List& as_list() const { return *std::get<ListPtr>(data_); }
  // Dicts and namespaces share the representation.
  Dict& as_dict() const { return *std::get<DictPtr>(data_); }
  const Function& as_function() const { return *std::get<FunctionPtr>(data_); }

  // Python truthiness; undefined is false.
  bool Truthy() const;
  // Python str(); undefined renders as "".
  std::string Str() const;
  // Python repr(), used when containers are printed.
  std::string Repr() const;
  // Python's type name for error messages ("str", "int", "dict", "undefined", ...).
  const char* TypeName() const;
  // Identity of the shared container (lists, dicts), for `is sameas`.
  const void* identity() const;
  // Whether another Value refers to this one's dict or list.
  bool shared() const;

 private:
  struct ListDeleter {
    void operator()(List* list) const;
  };
  struct DictDeleter {
    void operator()(Dict* dict) const;
  };
  using StringPtr = std::shared_ptr<const std::string>;
  using ListPtr = std::shared_ptr<List>;
  using DictPtr = std::shared_ptr<Dict>;
  using FunctionPtr = std::shared_ptr<const Function>;

  void AppendRepr(int depth, std::string* out) const;

  Kind kind_ = Kind::kUndefined;
  bool tuple_ = false;
  std::variant<std::monostate, bool, int64_t, double, StringPtr, ListPtr, DictPtr, FunctionPtr>
      data_;
};

inline size_t Dict::size() const { return entries_.size(); }
inline bool Dict::empty() const { return entries_.empty(); }

// Python ==, deep for containers; 1 == 1.0 == True.
bool Equals(const Value& a, const Value& b);
// Python <, or false with *ok = false when the types cannot be ordered.
int Compare(const Value& a, const Value& b, bool* ok);

// float.__repr__: shortest round-trip digits, "1.0", "1e-05", "inf", "nan".
std::string FormatPythonFloat(double value);

}  // namespace lantern::jinja
