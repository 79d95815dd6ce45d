// Added tokens ("added_tokens" in tokenizer.json): strings matched in the text before
// pre-tokenization and mapped straight to their ids.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/normalizer.h"

namespace lantern::tokenizer {

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false;
  bool lstrip = false;       // the match swallows whitespace on its left
  bool rstrip = false;       // ... and on its right
  bool normalized = false;   // matched in the normalized text rather than the raw text
  bool single_word = false;  // only matches when not inside a word
};

// Part of a text: either an added token or plain text to encode with the model.
struct TextSegment {
  size_t begin, end;
  int32_t token_id;  // -1 for plain text
};

class AddedVocabulary {
 public:
  // `normalizer` (may be null) rewrites the patterns of normalized tokens.
  AddedVocabulary(std::vector<AddedToken> tokens, const Normalizer* normalizer);

  // Splits `text` on the raw-text tokens (normalized == false) or on the normalized ones,
  // with tokenizers' rules: leftmost-longest non-overlapping matches, single_word,
  // lstrip and rstrip. Plain segments are never empty.
  void Split(std::string_view text, bool normalized, std::vector<TextSegment>& out) const;

  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  // A byte trie; a node's terminal is the index of the token ending there or -1.
  struct Trie {
    struct Node {
      std::vector<std::pair<unsigned char, int32_t>> children;
      int32_t terminal = -1;
    };
    std::vector<Node> nodes{1};
    bool first_bytes[256] = {};
    void Insert(std::string_view pattern, int32_t token_index);
    // Length and token index of the longest pattern starting at `pos`, or {0, -1}.
    std::pair<size_t, int32_t> LongestAt(std::string_view text, size_t pos) const;
  };

  std::vector<AddedToken> tokens_;
  Trie raw_trie_, normalized_trie_;
};

}  // namespace lantern::tokenizer
