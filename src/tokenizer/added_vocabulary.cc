#include "tokenizer/added_vocabulary.h"

#include <algorithm>

#include "tokenizer/unicode.h"

namespace lantern::tokenizer {
namespace {

// Last code point of `text[0, end)` (end > 0).
char32_t LastCodePoint(std::string_view text, size_t end) {
  size_t start = end - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  return NextCodePoint(text, start);
}

bool EndsWithWordChar(std::string_view text, size_t end) {
  return end > 0 && IsAlphanumeric(LastCodePoint(text, end));
}

bool StartsWithWordChar(std::string_view text, size_t begin) {
  if (begin >= text.size()) return false;
  size_t pos = begin;
  return IsAlphanumeric(NextCodePoint(text, pos));
}

// Start of the whitespace run that ends at `end`.
size_t WhitespaceRunStart(std::string_view text, size_t end) {
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    size_t pos = start;
    if (!IsWhitespace(NextCodePoint(text, pos))) break;
    end = start;
  }
  return end;
}

// End of the whitespace run that starts at `begin`.
size_t WhitespaceRunEnd(std::string_view text, size_t begin) {
  while (begin < text.size()) {
    size_t pos = begin;
    if (!IsWhitespace(NextCodePoint(text, pos))) break;
    begin = pos;
  }
  return begin;
}

}  // namespace

void AddedVocabulary::Trie::Insert(std::string_view pattern, int32_t token_index) {
  if (pattern.empty()) return;
  first_bytes[static_cast<unsigned char>(pattern[0])] = true;
  int32_t node = 0;
  for (char c : pattern) {
    const auto byte = static_cast<unsigned char>(c);
    auto& children = nodes[node].children;
    auto it = std::find_if(children.begin(), children.end(),
                           [byte](const auto& child) { return child.first == byte; });
    if (it != children.end()) {
      node = it->second;
      continue;
    }
    const auto next = static_cast<int32_t>(nodes.size());
    children.emplace_back(byte, next);
    nodes.emplace_back();
    node = next;
  }
  // The first token with a given content wins, like tokenizers' pattern table.
  if (nodes[node].terminal < 0) nodes[node].terminal = token_index;
}

std::pair<size_t, int32_t> AddedVocabulary::Trie::LongestAt(std::string_view text,
                                                            size_t pos) const {
  std::pair<size_t, int32_t> best{0, -1};
  int32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    const auto& children = nodes[node].children;
    auto it = std::find_if(children.begin(), children.end(),
                           [byte](const auto& child) { return child.first == byte; });
    if (it == children.end()) break;
    node = it->second;
    if (nodes[node].terminal >= 0) best = {i + 1 - pos, nodes[node].terminal};
  }
  return best;
}

AddedVocabulary::AddedVocabulary(std::vector<AddedToken> tokens, const Normalizer* normalizer)
    : tokens_(std::move(tokens)) {
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const AddedToken& token = tokens_[i];
    if (!token.normalized) {
      raw_trie_.Insert(token.content, static_cast<int32_t>(i));
      continue;
    }
    std::string pattern = token.content;
    if (normalizer != nullptr) normalizer->Normalize(pattern);
    normalized_trie_.Insert(pattern, static_cast<int32_t>(i));
  }
}

void AddedVocabulary::Split(std::string_view text, bool normalized,
                            std::vector<TextSegment>& out) const {
  const Trie& trie = normalized ? normalized_trie_ : raw_trie_;
  size_t segment_start = 0;  // end of the previous accepted match
  size_t pos = 0;
  if (trie.nodes[0].children.empty()) pos = text.size();
  while (pos < text.size()) {
    if (!trie.first_bytes[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    const auto [length, index] = trie.LongestAt(text, pos);
    if (index < 0) {
      ++pos;
      continue;
    }
    size_t start = pos, stop = pos + length;
    pos = stop;  // matches never overlap, whatever happens to this one
    const AddedToken& token = tokens_[index];
    if (token.single_word && (EndsWithWordChar(text, start) || StartsWithWordChar(text, stop))) {
      continue;
    }
    if (token.lstrip) start = std::max(WhitespaceRunStart(text, start), segment_start);
    if (token.rstrip) {
      stop = WhitespaceRunEnd(text, stop);
      pos = stop;
    }
    if (segment_start < start) out.push_back({segment_start, start, -1});
    out.push_back({start, stop, token.id});
    segment_start = stop;
  }
  if (segment_start < text.size()) out.push_back({segment_start, text.size(), -1});
}

}  // namespace lantern::tokenizer
