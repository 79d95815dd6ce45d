#include <algorithm>

#include "grammar/compiled_grammar.h"

namespace lantern::grammar {

struct Matcher::State {
  GrammarHandle grammar;
  StackSet stacks;
  std::vector<uint32_t> words;
};

Matcher::Matcher(GrammarHandle grammar) : state_(std::make_unique<State>()) {
  state_->stacks = grammar->Initial();
  state_->grammar = std::move(grammar);
}
Matcher::~Matcher() = default;
Matcher::Matcher(const Matcher& other) : state_(std::make_unique<State>(*other.state_)) {}
Matcher& Matcher::operator=(const Matcher& other) {
  if (this != &other) state_ = std::make_unique<State>(*other.state_);
  return *this;
}
Matcher::Matcher(Matcher&&) noexcept = default;
Matcher& Matcher::operator=(Matcher&&) noexcept = default;

void Matcher::FillMask(std::span<uint32_t> bits) {
  state_->grammar->Mask(state_->stacks, &state_->words);
  const size_t n = std::min(bits.size(), state_->words.size());
  std::copy(state_->words.begin(), state_->words.begin() + n, bits.begin());
  std::fill(bits.begin() + n, bits.end(), 0u);
}

bool Matcher::Accept(int32_t token) {
  const Vocabulary& vocab = state_->grammar->vocab();
  if (token < 0 || token >= vocab.size() || vocab.special(token) || vocab.token(token).empty()) {
    return false;
  }
  StackSet next = state_->grammar->Advance(state_->stacks, vocab.token(token));
  if (next.empty()) return false;
  state_->stacks = std::move(next);
  return true;
}

bool Matcher::CanEnd() const {
  return !state_->stacks.empty() && state_->stacks.front() == kAccept;
}

bool Matcher::IsTerminated() const {
  return state_->stacks.size() == 1 && state_->stacks.front() == kAccept;
}

const CompiledGrammar& Matcher::grammar() const { return *state_->grammar; }

GrammarKind KindOf(const CompiledGrammar& grammar) { return grammar.kind(); }

const char* GrammarKindName(GrammarKind kind) {
  switch (kind) {
    case GrammarKind::kJsonSchema:
      return "json_schema";
    case GrammarKind::kJsonObject:
      return "json_object";
    case GrammarKind::kRegex:
      return "regex";
    case GrammarKind::kChoice:
      return "choice";
    case GrammarKind::kGrammar:
      return "grammar";
  }
  return "grammar";
}

}  // namespace lantern::grammar
