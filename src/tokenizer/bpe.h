// The byte-pair-encoding model: turns one pre-tokenized piece into token ids by
// applying ranked merges, with an unknown token or byte fallback for characters that
// are not in the vocabulary.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "tokenizer/vocab.h"
#include "tokenizer/word_cache.h"

namespace lantern::tokenizer {

struct BpeOptions {
  std::optional<std::string> unk_token;
  std::string continuing_subword_prefix;
  std::string end_of_word_suffix;
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;
};

class Bpe {
 public:
  // `merges` are token pairs in rank order. Fails when a merge or the unknown token is
  // not in the vocabulary.
  static Result<std::unique_ptr<Bpe>> Create(
      Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges,
      BpeOptions options);

  // Appends the ids of `word` to `ids`. Thread-safe.
  void Encode(std::string_view word, std::vector<int32_t>& ids) const;

  const Vocab& vocab() const { return vocab_; }
  const BpeOptions& options() const { return options_; }

 private:
  struct Symbol {
    int32_t id;
    int32_t prev, next;  // neighbours in the current segmentation, -1 at the ends
    uint32_t length;     // bytes of the word it covers; 0 once merged into its left
  };
  struct MergeResult {
    uint32_t rank;
    int32_t id;
  };
  struct MergeSlot {
    uint64_t key;  // (left id << 32) | right id
    MergeResult result;
  };

  Bpe(Vocab vocab, BpeOptions options);
  void EncodeChunk(std::string_view chunk, std::vector<int32_t>& ids) const;
  // Where a long word may be cut into chunks that BPE handles independently.
  bool IsChunkBoundary(std::string_view word, size_t pos) const;
  void FindChunking(const std::vector<std::string>& merged_tokens);
  void InitialSymbols(std::string_view word, std::vector<Symbol>& symbols) const;
  const MergeResult* FindMerge(int32_t left, int32_t right) const;
  void MergeSmall(std::vector<Symbol>& symbols) const;
  void MergeWithQueue(std::vector<Symbol>& symbols) const;

  Vocab vocab_;
  BpeOptions options_;
  std::optional<int32_t> unk_id_;
  std::vector<int32_t> byte_fallback_ids_;  // id of "<0xXX>" per byte, or -1
  std::vector<int32_t> char_ids_;           // id of each single BMP code point, or -1
  // Open-addressing table from (left id, right id) to the merge result; key and value
  // share a slot so that a lookup touches one cache line.
  std::vector<MergeSlot> merge_slots_;
  uint64_t merge_mask_ = 0;
  mutable WordCache cache_;
  // Metaspace vocabularies (Llama 2, Gemma) encode whole texts as one word. When no
  // merge can join a character to a following "▁", such a text is cut before each
  // "▁" into chunks with the same result and a cacheable size. `crossing_tokens_` are
  // the merge results that do join across one; a cut inside one of them is skipped.
  bool chunk_on_metaspace_ = false;
  std::vector<std::string> crossing_tokens_;
};

}  // namespace lantern::tokenizer
