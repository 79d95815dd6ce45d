// The pushdown automaton: a state is a set of parser stacks, advanced byte by byte, as in
// llama.cpp's GBNF sampler; stacks are interned (hash-consed) nodes shared by all the
// sequences of a grammar, so equal states are equal id sets and their masks are cached.
#include "grammar/compiled_grammar.h"

#include <algorithm>

namespace lantern::grammar {

CompiledGrammar::CompiledGrammar(GrammarKind kind, GrammarIr ir,
                                 std::shared_ptr<const Vocabulary> vocab)
    : kind_(kind), ir_(std::move(ir)), vocab_(std::move(vocab)) {
  alternatives_.reserve(ir_.rule_start.size());
  for (uint32_t r = 0; r < ir_.rule_start.size(); ++r) {
    alternatives_.push_back(ir_.AlternativeStarts(r));
  }
}

int32_t CompiledGrammar::Intern(uint32_t pos, int32_t parent) const {
  const uint64_t key = (static_cast<uint64_t>(pos) << 32) | static_cast<uint32_t>(parent);
  auto [it, inserted] = interned_.emplace(key, static_cast<int32_t>(nodes_.size()));
  if (inserted) {
    const uint32_t depth = parent == kAccept ? 1 : nodes_[parent].depth + 1;
    nodes_.push_back({pos, parent, depth});
  }
  return it->second;
}

// Adds to `out` every stack reachable from `id` without reading a byte whose top is a
// byte set (or the empty stack).
void CompiledGrammar::Expand(int32_t id, StackSet* out) const {
  // Ambiguous grammars ((a?){4000}) can have exponentially many paths: past the budget the
  // rest are dropped, so a hostile grammar costs bounded time (and allows less).
  if (++work_ > kMaxWalkWork) return;
  if (id == kAccept) {
    out->push_back(kAccept);
    return;
  }
  const Node node = nodes_[id];
  if (node.depth > kMaxStackDepth) return;  // nesting beyond the limit: this path dies
  const Element& e = ir_.elements[node.pos];
  switch (e.type) {
    case ElementType::kBytes:
      out->push_back(id);
      return;
    case ElementType::kEnd:
    case ElementType::kAlt:
      Expand(node.parent, out);
      return;
    case ElementType::kRuleRef: {
      // Tail call: nothing left after the reference, so return straight to the parent.
      const int32_t cont =
          ir_.IsEndOfAlternative(node.pos + 1) ? node.parent : Intern(node.pos + 1, node.parent);
      for (uint32_t start : alternatives_[e.value]) {
        if (ir_.IsEndOfAlternative(start)) {
          Expand(cont, out);
        } else {
          Expand(Intern(start, cont), out);
        }
      }
      return;
    }
  }
}

void CompiledGrammar::Step(const StackSet& in, uint8_t byte, StackSet* out) const {
  out->clear();
  for (int32_t id : in) {
    if (id == kAccept) continue;
    const Node node = nodes_[id];
    if (!ir_.byte_sets[ir_.elements[node.pos].value].test(byte)) continue;
    if (ir_.IsEndOfAlternative(node.pos + 1)) {
      Expand(node.parent, out);
    } else {
      Expand(Intern(node.pos + 1, node.parent), out);
    }
  }
  if (out->size() > 1) {
    std::sort(out->begin(), out->end());
    out->erase(std::unique(out->begin(), out->end()), out->end());
  }
}

StackSet CompiledGrammar::Initial() const {
  std::lock_guard<std::mutex> lock(mu_);
  work_ = 0;
  StackSet out;
  for (uint32_t start : alternatives_[ir_.root]) {
    if (ir_.IsEndOfAlternative(start)) {
      out.push_back(kAccept);
    } else {
      Expand(Intern(start, kAccept), &out);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

int32_t CompiledGrammar::StateOf(const StackSet& set) const {
  std::string key(reinterpret_cast<const char*>(set.data()), set.size() * sizeof(int32_t));
  auto it = state_index_.find(key);
  if (it != state_index_.end()) return it->second;
  if (states_.size() >= kMaxStates) {
    // Start the DFA over (matchers keep stack sets, not state ids, so nothing dangles).
    states_.clear();
    transitions_.clear();
    state_index_.clear();
    masks_.clear();
  }
  const auto id = static_cast<int32_t>(states_.size());
  states_.push_back(set);
  transitions_.emplace_back();
  transitions_.back().fill(kUnknown);
  state_index_.emplace(std::move(key), id);
  return id;
}

int32_t CompiledGrammar::Transition(int32_t state, uint8_t byte) const {
  int32_t next = transitions_[state][byte];
  if (next != kUnknown) return next;
  StackSet out;
  Step(states_[state], byte, &out);
  const size_t generation = states_.size();
  next = out.empty() ? kDead : StateOf(out);
  // StateOf may have started the DFA over, taking `state` with it.
  if (states_.size() >= generation && state < static_cast<int32_t>(transitions_.size())) {
    transitions_[state][byte] = next;
  }
  return next;
}

StackSet CompiledGrammar::Advance(const StackSet& state, std::string_view bytes) const {
  std::lock_guard<std::mutex> lock(mu_);
  // Through the DFA: the transitions the masks filled in are usually all it takes. A
  // transition that starts the DFA over still returns the right state, numbered anew.
  int32_t id = StateOf(state);
  work_ = 0;
  for (char b : bytes) {
    id = Transition(id, static_cast<uint8_t>(b));
    if (id == kDead) return {};
  }
  return states_[id];
}

// Depth-first over the token trie with one DFA state per depth; a subtree whose prefix no
// stack accepts is skipped whole. Most transitions are found filled in by earlier walks.
void CompiledGrammar::Walk(int32_t start, std::vector<uint32_t>* words) const {
  const TokenTrie& trie = vocab_->impl().trie;
  std::vector<int32_t> states(1, start);
  work_ = 0;
  const uint32_t n = static_cast<uint32_t>(trie.byte.size());
  for (uint32_t i = 1; i < n;) {
    const uint16_t d = trie.depth[i];
    if (states.size() <= d) states.resize(d + 1);
    const size_t before = states_.size();
    const int32_t next = Transition(states[d - 1], trie.byte[i]);
    if (states_.size() < before) return;  // the DFA started over: keep what was found
    if (next == kDead) {
      i = trie.end[i];
      continue;
    }
    states[d] = next;
    for (uint32_t t = trie.token_begin[i]; t < trie.token_begin[i + 1]; ++t) {
      const int32_t id = trie.tokens[t];
      (*words)[id >> 5] |= 1u << (id & 31);
    }
    if (work_ > kMaxWalkWork) break;  // keep what is known to be allowed
    ++i;
  }
}

void CompiledGrammar::Mask(const StackSet& state, std::vector<uint32_t>* words) const {
  const size_t num_words = (static_cast<size_t>(vocab_->size()) + 31) / 32;
  std::lock_guard<std::mutex> lock(mu_);
  const int32_t id = StateOf(state);
  if (auto it = masks_.find(id); it != masks_.end()) {
    *words = it->second;
    return;
  }
  words->assign(num_words, 0);
  Walk(id, words);
  if ((masks_.size() + 1) * num_words * sizeof(uint32_t) > kMaxCachedMaskBytes) masks_.clear();
  if (id < static_cast<int32_t>(states_.size()) && states_[id] == state) masks_.emplace(id, *words);
}

}  // namespace lantern::grammar
