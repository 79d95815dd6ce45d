#include "tokenizer/jinja_eval.h"

#include <cstdint>

namespace lantern::jinja {

void Evaluator::Render(const Body& body, const Scope& globals, const RenderBudget& budget,
                       std::string* out) {
  Evaluator evaluator(budget);
  ScopedBudget installed(&evaluator.counters_);  // for the builtins' charges
  Scope template_scope(&globals);  // top-level `set` lands here, not in the caller's variables
  evaluator.Execute(body, template_scope, out);
}

Evaluator::Flow Evaluator::Execute(const Body& body, Scope& scope, std::string* out) {
  Nesting nesting(counters_);
  for (const NodePtr& node : body) {
    Flow flow;
    try {
      counters_.Step();
      flow = ExecuteNode(*node, scope, out);
      counters_.CheckOutput(out->size());
    } catch (Error& e) {
      if (e.pos().line == 0) e.set_pos(node->pos);
      throw;
    }
    if (flow != Flow::kNormal) return flow;
  }
  return Flow::kNormal;
}

Evaluator::Flow Evaluator::ExecuteNode(const Node& node, Scope& scope, std::string* out) {
  switch (node.kind) {
    case Node::Kind::kText:
      out->append(static_cast<const TextNode&>(node).text);
      return Flow::kNormal;
    case Node::Kind::kOutput: {
      Value value = Eval(*static_cast<const OutputNode&>(node).expr, scope);
      if (value.is_string()) {
        out->append(value.as_string());
      } else {
        out->append(value.Str());
      }
      return Flow::kNormal;
    }
    case Node::Kind::kIf: {
      const auto& if_node = static_cast<const IfNode&>(node);
      for (const auto& [test, body] : if_node.branches) {
        if (Eval(*test, scope).Truthy()) return Execute(body, scope, out);
      }
      return Execute(if_node.else_body, scope, out);
    }
    case Node::Kind::kFor:
      return ExecuteFor(static_cast<const ForNode&>(node), scope, out);
    case Node::Kind::kSet: {
      const auto& set = static_cast<const SetNode&>(node);
      Assign(set.target, Eval(*set.value, scope), scope);
      return Flow::kNormal;
    }
    case Node::Kind::kSetBlock: {
      const auto& set = static_cast<const SetBlockNode&>(node);
      std::string captured;
      Execute(set.body, scope, &captured);
      Value value(std::move(captured));
      for (const auto& filter : set.filters) value = EvalFilter(*filter, std::move(value), scope);
      Assign(set.target, std::move(value), scope);
      return Flow::kNormal;
    }
    case Node::Kind::kMacro: {
      const auto& macro = static_cast<const MacroNode&>(node);
      scope.Set(macro.name, DefineMacro(macro, scope));
      return Flow::kNormal;
    }
    case Node::Kind::kBreak:
      return Flow::kBreak;
    case Node::Kind::kContinue:
      return Flow::kContinue;
    case Node::Kind::kFilterBlock: {
      const auto& block = static_cast<const FilterBlockNode&>(node);
      std::string captured;
      Execute(block.body, scope, &captured);
      Value value(std::move(captured));
      for (const auto& filter : block.filters) value = EvalFilter(*filter, std::move(value), scope);
      out->append(value.Str());
      return Flow::kNormal;
    }
    case Node::Kind::kDo:
      Eval(*static_cast<const DoNode&>(node).expr, scope);
      return Flow::kNormal;
  }
  return Flow::kNormal;
}

namespace {

void BindTargets(const std::vector<std::string>& targets, const Value& item, Scope& scope) {
  if (targets.size() == 1) {
    scope.Set(targets[0], item);
    return;
  }
  if (!item.is_list()) {
    ThrowRuntime(std::string("cannot unpack non-iterable ") + item.TypeName() + " object");
  }
  const List& parts = item.as_list();
  if (parts.size() != targets.size()) {
    ThrowRuntime(std::string(parts.size() < targets.size() ? "not enough" : "too many") +
                 " values to unpack (expected " + std::to_string(targets.size()) + ", got " +
                 std::to_string(parts.size()) + ")");
  }
  for (size_t i = 0; i < targets.size(); ++i) scope.Set(targets[i], parts[i]);
}

}  // namespace

Evaluator::Flow Evaluator::ExecuteFor(const ForNode& node, Scope& scope, std::string* out) {
  Value iterable = Eval(*node.iterable, scope);
  if (iterable.is_none() || iterable.is_number() || iterable.is_function()) {
    ThrowRuntime(std::string("'") + iterable.TypeName() + "' object is not iterable");
  }
  List items = IterateValue(iterable);
  if (node.filter) {  // `for x in xs if cond`: loop.* counts only the items that pass
    Scope filter_scope(&scope);
    List kept;
    for (const Value& item : items) {
      counters_.Iteration();
      BindTargets(node.targets, item, filter_scope);
      if (Eval(*node.filter, filter_scope).Truthy()) kept.push_back(item);
    }
    items = std::move(kept);
  }
  const int64_t n = static_cast<int64_t>(items.size());
  // One `loop` object per loop, updated in place each iteration (a dict, which templates
  // cannot change) rather than built afresh. Should the template keep a reference to it (in a
  // namespace), later iterations get a fresh one: the kept one must not change after
  // Assign checked it.
  auto index = std::make_shared<int64_t>(0);
  Value loop_value;
  struct Fields {
    Value *index1, *index0, *revindex, *revindex0, *first, *last, *previtem, *nextitem;
  } f{};
  auto fresh_loop = [&] {
    Dict fields;
    for (const char* key : {"index", "index0", "revindex", "revindex0", "first", "last", "length",
                            "depth", "depth0", "previtem", "nextitem", "cycle"}) {
      fields.Set(key, Value());
    }
    loop_value = Value::MakeDict(std::move(fields));
    Dict& loop = loop_value.as_dict();
    *loop.Find("length") = Value(n);
    *loop.Find("depth") = Value(1);
    *loop.Find("depth0") = Value(0);
    *loop.Find("cycle") = Value::MakeFunction([index](const CallArgs& args) {
      if (args.positional.empty()) ThrowRuntime("no items for cycling given");
      return args.positional[static_cast<size_t>(*index) % args.positional.size()];
    });
    f = {loop.Find("index"), loop.Find("index0"), loop.Find("revindex"), loop.Find("revindex0"),
         loop.Find("first"), loop.Find("last"),   loop.Find("previtem"), loop.Find("nextitem")};
  };
  if (n > 0) fresh_loop();
  for (int64_t i = 0; i < n; ++i) {
    counters_.Iteration();
    if (loop_value.shared()) {
      index = std::make_shared<int64_t>(0);
      fresh_loop();
    }
    const Value& item = items[static_cast<size_t>(i)];
    // As in Python Jinja, assignments in the body last for one iteration only.
    Scope loop_scope(&scope);
    *index = i;
    *f.index1 = Value(i + 1);
    *f.index0 = Value(i);
    *f.revindex = Value(n - i);
    *f.revindex0 = Value(n - i - 1);
    *f.first = Value(i == 0);
    *f.last = Value(i == n - 1);
    *f.previtem = i > 0 ? items[static_cast<size_t>(i - 1)] : Value();
    *f.nextitem = i + 1 < n ? items[static_cast<size_t>(i + 1)] : Value();
    loop_scope.Set("loop", loop_value);
    BindTargets(node.targets, item, loop_scope);
    if (Execute(node.body, loop_scope, out) == Flow::kBreak) break;
  }
  if (n == 0) {
    Scope else_scope(&scope);
    return Execute(node.else_body, else_scope, out);
  }
  return Flow::kNormal;
}

namespace {

// Whether `value` is or holds the container `target`, at most kMaxValueDepth levels down
// (deeper is an error): a namespace stored inside itself would be a cycle that no reference
// count frees and no printer finishes.
bool Holds(const Value& value, const void* target, int depth) {
  CheckValueDepth(depth);
  if (value.identity() == target) return true;
  if (value.is_list()) {
    ChargeSteps(1 + static_cast<int64_t>(value.as_list().size() >> 3));
    for (const Value& item : value.as_list()) {
      if ((item.is_list() || item.is_dict() || item.is_namespace()) &&
          Holds(item, target, depth + 1)) {
        return true;
      }
    }
  } else if (value.is_dict() || value.is_namespace()) {
    ChargeSteps(1 + static_cast<int64_t>(value.as_dict().size() >> 3));
    for (const auto& entry : value.as_dict().entries()) {
      const Value& item = entry.second;
      if ((item.is_list() || item.is_dict() || item.is_namespace()) &&
          Holds(item, target, depth + 1)) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace

void Evaluator::Assign(const AssignTarget& target, Value value, Scope& scope) {
  if (target.object) {
    Value object = Eval(*target.object, scope);
    if (!object.is_namespace()) ThrowRuntime("cannot assign attribute on non-namespace object");
    if ((value.is_list() || value.is_dict() || value.is_namespace()) &&
        Holds(value, object.identity(), 0)) {
      ThrowRuntime("cannot store a namespace inside itself");
    }
    object.as_dict().Set(target.attr, std::move(value));
    return;
  }
  BindTargets(target.names, value, scope);
}

Value Evaluator::DefineMacro(const MacroNode& node, const Scope& scope) {
  const Scope* defining_scope = &scope;
  return Value::MakeFunction([this, &node, defining_scope](const CallArgs& args) {
    if (args.positional.size() > node.params.size()) {
      ThrowRuntime("macro '" + node.name + "' takes not more than " +
                   std::to_string(node.params.size()) + " argument(s)");
    }
    Scope macro_scope(defining_scope);
    for (const auto& [key, value] : args.keyword) {
      bool known = false;
      for (const std::string& p : node.params) known = known || p == key;
      if (!known) ThrowRuntime("macro '" + node.name + "' takes no keyword argument '" + key + "'");
    }
    for (size_t i = 0; i < node.params.size(); ++i) {
      const Value* given =
          i < args.positional.size() ? &args.positional[i] : args.Get(SIZE_MAX, node.params[i]);
      if (given != nullptr) {
        macro_scope.Set(node.params[i], *given);
      } else if (node.defaults[i]) {
        macro_scope.Set(node.params[i], Eval(*node.defaults[i], macro_scope));
      } else {
        macro_scope.Set(node.params[i], Value());
      }
    }
    std::string out;
    Execute(node.body, macro_scope, &out);  // counts a level of nesting
    return Value(std::move(out));
  });
}

}  // namespace lantern::jinja
