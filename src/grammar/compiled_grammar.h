// What a GrammarHandle points to: the byte-level grammar, the vocabulary's token trie, the
// interned parser stacks every Matcher of this grammar shares, and the cache of masks per
// parser state. Internal to the grammar module.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "grammar/grammar.h"
#include "grammar/grammar_ir.h"

namespace lantern::grammar {

// Every token's bytes in a trie laid out in preorder: node i's subtree is [i, end[i]), its
// children follow it, so a walk skips a rejected subtree in one jump.
struct TokenTrie {
  std::vector<uint8_t> byte;         // the byte on the edge into the node
  std::vector<uint16_t> depth;       // root 0
  std::vector<uint32_t> end;         // one past the node's subtree
  std::vector<uint32_t> token_begin; // tokens ending here: tokens[token_begin[i]..[i+1])
  std::vector<int32_t> tokens;
};

struct Vocabulary::Impl {
  std::vector<std::string> tokens;
  std::vector<bool> special;
  TokenTrie trie;
};

// A parser state: a set of stacks, each an interned node id (kAccept: the empty stack,
// meaning the input so far is a complete match). Sorted, unique.
using StackSet = std::vector<int32_t>;
constexpr int32_t kAccept = -1;

class CompiledGrammar {
 public:
  CompiledGrammar(GrammarKind kind, GrammarIr ir, std::shared_ptr<const Vocabulary> vocab);

  GrammarKind kind() const { return kind_; }
  const Vocabulary& vocab() const { return *vocab_; }

  // All of these lock mu_: matchers on any thread may share the grammar.
  StackSet Initial() const;
  // The state after `bytes`; empty when the grammar rejects them.
  StackSet Advance(const StackSet& state, std::string_view bytes) const;
  // Allowed tokens of `state` as bits (vocab().size() bits, 32 per word).
  void Mask(const StackSet& state, std::vector<uint32_t>* words) const;

  // Work limits (bounded work on hostile grammars): stacks deeper than this die; a mask
  // walk, an Accept or the start stops expanding (keeping what it found) after this many
  // stack steps; the lazy DFA
  // starts over past kMaxStates states.
  static constexpr uint32_t kMaxStackDepth = 4096;
  static constexpr size_t kMaxWalkWork = 20'000'000;
  static constexpr size_t kMaxCachedMaskBytes = 4 << 20;  // per grammar
  static constexpr size_t kMaxStates = 16384;

 private:
  struct Node {
    uint32_t pos;
    int32_t parent;
    uint32_t depth;
  };
  int32_t Intern(uint32_t pos, int32_t parent) const;
  void Expand(int32_t id, StackSet* out) const;
  void Step(const StackSet& in, uint8_t byte, StackSet* out) const;
  // The lazily built DFA over stack sets: a state id per distinct set, its transitions
  // filled on first use (kUnknown), kDead where the byte is refused.
  static constexpr int32_t kUnknown = -2;
  static constexpr int32_t kDead = -1;
  int32_t StateOf(const StackSet& set) const;
  int32_t Transition(int32_t state, uint8_t byte) const;
  void Walk(int32_t state, std::vector<uint32_t>* words) const;

  const GrammarKind kind_;
  const GrammarIr ir_;
  const std::shared_ptr<const Vocabulary> vocab_;
  std::vector<std::vector<uint32_t>> alternatives_;  // rule -> alternative starts

  mutable std::mutex mu_;
  mutable std::vector<Node> nodes_;
  mutable std::unordered_map<uint64_t, int32_t> interned_;
  mutable size_t work_ = 0;
  mutable std::vector<StackSet> states_;
  mutable std::vector<std::array<int32_t, 256>> transitions_;
  mutable std::unordered_map<std::string, int32_t> state_index_;
  mutable std::unordered_map<int32_t, std::vector<uint32_t>> masks_;  // by state
};

}  // namespace lantern::grammar
