// The runtime library of the interpreter: operators, attribute and item access, str/dict/list
// methods, filters, tests and global functions. All throw jinja::Error on bad input.
#pragma once

#include <string>
#include <string_view>

#include "tokenizer/jinja_ast.h"
#include "tokenizer/jinja_value.h"

namespace lantern::jinja {

// Variables visible to a template: a chain of frames, innermost first.
class Scope {
 public:
  explicit Scope(const Scope* parent = nullptr) : parent_(parent) {}

  const Value* Find(std::string_view name) const;
  void Set(std::string_view name, Value value);
  const Scope* parent() const { return parent_; }

 private:
  const Scope* parent_;
  std::vector<std::pair<std::string, Value>> vars_;
};

// jinja_ops.cc
Value BinaryOperation(BinaryOp op, const Value& left, const Value& right);
bool Contains(const Value& container, const Value& item);  // Python `item in container`
// obj.name: for dicts Jinja tries the attribute (a method) first, then the key.
Value GetAttribute(const Value& object, std::string_view name);
// obj[key]: for dicts the key first, then the attribute.
Value GetItem(const Value& object, const Value& key);
// obj[start:stop:step]; absent parts are undefined values.
Value SliceValue(const Value& object, const Value& start, const Value& stop, const Value& step);
// Iteration as a for loop sees it: lists, dict keys, string characters; undefined is empty.
List IterateValue(const Value& value);

// jinja_methods.cc: calls a str, dict or list method; returns false when there is none.
bool CallMethod(const Value& object, std::string_view name, const CallArgs& args, Value* result);
bool HasMethod(const Value& object, std::string_view name);

// jinja_filters.cc
Value ApplyFilter(std::string_view name, const Value& operand, const CallArgs& args);

// jinja_filter_lists.cc: the filters over sequences, and the `attribute=` lookup they share
// (argument `attribute_index` positionally, or the keyword).
Value FilterKey(const Value& item, const CallArgs& args, size_t attribute_index);
Value SortFilter(const Value& v, const CallArgs& args);
Value DictSortFilter(const Value& v, const CallArgs& args);
Value MinMaxFilter(const Value& v, const CallArgs& args, bool want_max);
Value UniqueFilter(const Value& v, const CallArgs& args);
Value SelectFilter(const Value& v, const CallArgs& args, bool by_attribute, bool select);
Value MapFilter(const Value& v, const CallArgs& args);

// jinja_builtins.cc
bool ApplyTest(std::string_view name, const Value& operand, const CallArgs& args);
// range, namespace, dict, raise_exception, strftime_now, joiner, cycler.
const Scope& GlobalFunctions();
// The integer value of a number argument, else throws naming `what`.
int64_t ToInteger(const Value& value, std::string_view what);

}  // namespace lantern::jinja
