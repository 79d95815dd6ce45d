#include "tokenizer/bpe.h"

#include <algorithm>
#include <cstdio>
#include <functional>

#include "tokenizer/json_util.h"
#include "tokenizer/unicode.h"

namespace lantern::tokenizer {
namespace {

constexpr uint64_t kEmptyKey = ~uint64_t{0};
// Words with more symbols than this are merged with a priority queue, shorter ones by
// rescanning, which is faster when there are few symbols.
constexpr size_t kSmallWord = 12;
// Longer words are not cached: they are rare and would crowd the cache.
constexpr size_t kMaxCachedWordBytes = 256;
constexpr std::string_view kMetaspace = "\xE2\x96\x81";  // U+2581
// Words longer than this are cut into chunks where that is exact.
constexpr size_t kChunkWordBytes = 64;
constexpr size_t kMaxCrossingTokens = 64;

uint64_t PairKey(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

uint64_t HashKey(uint64_t key) {
  key ^= key >> 29;
  key *= 0xBF58476D1CE4E5B9ULL;
  key ^= key >> 32;
  return key;
}

}  // namespace

Bpe::Bpe(Vocab vocab, BpeOptions options)
    : vocab_(std::move(vocab)), options_(std::move(options)) {}

Result<std::unique_ptr<Bpe>> Bpe::Create(
    Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges,
    BpeOptions options) {
  std::unique_ptr<Bpe> bpe(new Bpe(std::move(vocab), std::move(options)));
  const Vocab& v = bpe->vocab_;
  const BpeOptions& o = bpe->options_;
  if (o.unk_token) {
    bpe->unk_id_ = v.Find(*o.unk_token);
    if (!bpe->unk_id_) {
      return InvalidArgument("BPE model: unk_token " + Quote(*o.unk_token) +
                             " is not in the vocabulary");
    }
  }
  bpe->byte_fallback_ids_.assign(256, -1);
  if (o.byte_fallback) {
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof(name), "<0x%02X>", b);
      if (auto id = v.Find(name)) bpe->byte_fallback_ids_[b] = *id;
    }
  }
  if (o.continuing_subword_prefix.empty() && o.end_of_word_suffix.empty()) {
    bpe->char_ids_.assign(0x10000, -1);
    for (char32_t cp = 0; cp < 0x10000; ++cp) {
      if (cp >= 0xD800 && cp < 0xE000) continue;
      std::string s;
      AppendUtf8(cp, s);
      if (auto id = v.Find(s)) bpe->char_ids_[cp] = *id;
    }
  }

  std::vector<std::string> merged_tokens;
  merged_tokens.reserve(merges.size());
  size_t capacity = 16;
  while (capacity < merges.size() * 2) capacity <<= 1;
  bpe->merge_slots_.assign(capacity, MergeSlot{kEmptyKey, {0, 0}});
  bpe->merge_mask_ = capacity - 1;
  const std::string& prefix = o.continuing_subword_prefix;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    auto left_id = v.Find(left);
    auto right_id = v.Find(right);
    if (!left_id || !right_id) {
      return InvalidArgument("BPE model: merge " + std::to_string(rank) + " (" + Quote(left) + " " +
                             Quote(right) + ") uses " + Quote(left_id ? right : left) +
                             ", which is not in the vocabulary");
    }
    std::string merged = left;
    merged.append(!prefix.empty() && right.starts_with(prefix)
                      ? std::string_view(right).substr(prefix.size())
                      : std::string_view(right));
    auto merged_id = v.Find(merged);
    merged_tokens.push_back(merged);
    if (!merged_id) {
      return InvalidArgument("BPE model: the result " + Quote(merged) + " of merge " +
                             std::to_string(rank) + " is not in the vocabulary");
    }
    const uint64_t key = PairKey(*left_id, *right_id);
    uint64_t slot = HashKey(key) & bpe->merge_mask_;
    while (bpe->merge_slots_[slot].key != kEmptyKey && bpe->merge_slots_[slot].key != key) {
      slot = (slot + 1) & bpe->merge_mask_;
    }
    // A repeated pair keeps its last rank, as a hash map insert would.
    bpe->merge_slots_[slot] = {key, {static_cast<uint32_t>(rank), *merged_id}};
  }
  bpe->FindChunking(merged_tokens);
  return bpe;
}

void Bpe::FindChunking(const std::vector<std::string>& merged_tokens) {
  if (!vocab_.Find(kMetaspace) || !options_.continuing_subword_prefix.empty() ||
      !options_.end_of_word_suffix.empty()) {
    return;
  }
  for (const std::string& token : merged_tokens) {
    for (size_t pos = token.find(kMetaspace, 1); pos != std::string::npos;
         pos = token.find(kMetaspace, pos + 1)) {
      if (pos < kMetaspace.size() ||
          token.compare(pos - kMetaspace.size(), kMetaspace.size(), kMetaspace) != 0) {
        crossing_tokens_.push_back(token);
        break;
      }
    }
    if (crossing_tokens_.size() > kMaxCrossingTokens) return;
  }
  chunk_on_metaspace_ = true;
}

bool Bpe::IsChunkBoundary(std::string_view word, size_t pos) const {
  if (word.compare(pos, kMetaspace.size(), kMetaspace) != 0) return false;
  if (pos >= kMetaspace.size() &&
      word.compare(pos - kMetaspace.size(), kMetaspace.size(), kMetaspace) == 0) {
    return false;  // inside a run of "▁", which merges join
  }
  for (const std::string& token : crossing_tokens_) {
    // Any occurrence of the token in the word that spans the cut blocks it.
    const size_t from = pos >= token.size() ? pos - token.size() + 1 : 0;
    for (size_t at = word.find(token, from); at != std::string::npos && at < pos;
         at = word.find(token, at + 1)) {
      if (at + token.size() > pos) return false;
    }
  }
  return true;
}

const Bpe::MergeResult* Bpe::FindMerge(int32_t left, int32_t right) const {
  const uint64_t key = PairKey(left, right);
  uint64_t slot = HashKey(key) & merge_mask_;
  while (true) {
    const MergeSlot& entry = merge_slots_[slot];
    if (entry.key == key) return &entry.result;
    if (entry.key == kEmptyKey) return nullptr;
    slot = (slot + 1) & merge_mask_;
  }
}

void Bpe::InitialSymbols(std::string_view word, std::vector<Symbol>& symbols) const {
  std::optional<std::pair<int32_t, uint32_t>> pending_unk;  // id, byte length
  auto push = [&](int32_t id, uint32_t length) {
    const int32_t index = static_cast<int32_t>(symbols.size());
    symbols.push_back({id, index - 1, index + 1, length});
  };
  auto flush_unk = [&] {
    if (pending_unk) push(pending_unk->first, pending_unk->second);
    pending_unk.reset();
  };
  const bool affixes =
      !options_.continuing_subword_prefix.empty() || !options_.end_of_word_suffix.empty();
  std::string piece;
  size_t pos = 0;
  while (pos < word.size()) {
    const size_t start = pos;
    const char32_t cp = NextCodePoint(word, pos);
    const auto length = static_cast<uint32_t>(pos - start);
    std::optional<int32_t> id;
    if (!affixes && cp < 0x10000) {
      if (char_ids_[cp] >= 0) id = char_ids_[cp];
    } else {
      piece.clear();
      if (start > 0) piece.append(options_.continuing_subword_prefix);
      piece.append(word.substr(start, length));
      if (pos == word.size()) piece.append(options_.end_of_word_suffix);
      id = vocab_.Find(piece);
    }
    if (id) {
      flush_unk();
      push(*id, length);
      continue;
    }
    if (options_.byte_fallback) {
      bool all_bytes = true;
      for (size_t i = start; i < pos; ++i) {
        all_bytes &= byte_fallback_ids_[static_cast<unsigned char>(word[i])] >= 0;
      }
      if (all_bytes) {
        flush_unk();
        for (size_t i = start; i < pos; ++i) {
          push(byte_fallback_ids_[static_cast<unsigned char>(word[i])], 1);
        }
        continue;
      }
    }
    if (unk_id_) {
      if (pending_unk && options_.fuse_unk) {
        pending_unk->second += length;
      } else {
        flush_unk();
        pending_unk = std::make_pair(*unk_id_, length);
      }
    }
    // Without an unknown token the character is dropped, as tokenizers does.
  }
  flush_unk();
  if (!symbols.empty()) symbols.back().next = -1;
}

void Bpe::MergeSmall(std::vector<Symbol>& symbols) const {
  // Repeatedly merge the lowest-ranked adjacent pair, the leftmost on ties.
  size_t count = symbols.size();
  while (count > 1) {
    uint32_t best_rank = UINT32_MAX;
    int32_t best = -1, best_id = 0;
    for (int32_t i = 0; symbols[i].next != -1; i = symbols[i].next) {
      const MergeResult* merge = FindMerge(symbols[i].id, symbols[symbols[i].next].id);
      if (merge != nullptr && merge->rank < best_rank) {
        best_rank = merge->rank;
        best = i;
        best_id = merge->id;
      }
    }
    if (best < 0) break;
    Symbol& left = symbols[best];
    Symbol& right = symbols[left.next];
    left.id = best_id;
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (right.next != -1) symbols[right.next].prev = best;
    --count;
  }
}

void Bpe::MergeWithQueue(std::vector<Symbol>& symbols) const {
  // A candidate stays valid while its two symbols are still neighbours with the same
  // ids; the rank order with position as tie-break matches tokenizers' queue.
  struct Candidate {
    uint32_t rank;
    int32_t pos;
    int32_t left_id, right_id, right_pos;
    int32_t id;
    bool operator>(const Candidate& other) const {
      return rank != other.rank ? rank > other.rank : pos > other.pos;
    }
  };
  thread_local std::vector<Candidate> heap;
  heap.clear();
  const auto greater = std::greater<Candidate>();
  auto consider = [&](int32_t pos) {
    if (pos < 0) return;
    const int32_t next = symbols[pos].next;
    if (next == -1) return;
    if (const MergeResult* m = FindMerge(symbols[pos].id, symbols[next].id)) {
      heap.push_back({m->rank, pos, symbols[pos].id, symbols[next].id, next, m->id});
      std::push_heap(heap.begin(), heap.end(), greater);
    }
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(symbols.size()); ++i) {
    if (const MergeResult* m = FindMerge(symbols[i].id, symbols[i + 1].id)) {
      heap.push_back({m->rank, i, symbols[i].id, symbols[i + 1].id, i + 1, m->id});
    }
  }
  std::make_heap(heap.begin(), heap.end(), greater);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), greater);
    const Candidate top = heap.back();
    heap.pop_back();
    Symbol& left = symbols[top.pos];
    if (left.length == 0 || left.next != top.right_pos || left.id != top.left_id ||
        symbols[top.right_pos].id != top.right_id) {
      continue;
    }
    Symbol& right = symbols[top.right_pos];
    left.id = top.id;
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (right.next != -1) symbols[right.next].prev = top.pos;
    consider(left.prev);
    consider(top.pos);
  }
}

void Bpe::Encode(std::string_view word, std::vector<int32_t>& ids) const {
  if (word.empty()) return;
  if (options_.ignore_merges) {
    if (auto id = vocab_.Find(word)) {
      ids.push_back(*id);
      return;
    }
  }
  if (!chunk_on_metaspace_ || word.size() <= kChunkWordBytes) {
    EncodeChunk(word, ids);
    return;
  }
  size_t start = 0;
  for (size_t pos = word.find(kMetaspace, 1); pos != std::string_view::npos;
       pos = word.find(kMetaspace, pos + 1)) {
    if (!IsChunkBoundary(word, pos)) continue;
    EncodeChunk(word.substr(start, pos - start), ids);
    start = pos;
  }
  EncodeChunk(word.substr(start), ids);
}

void Bpe::EncodeChunk(std::string_view word, std::vector<int32_t>& ids) const {
  if (word.empty()) return;
  const bool cacheable = word.size() <= kMaxCachedWordBytes;
  if (cacheable && cache_.Lookup(word, ids)) return;

  thread_local std::vector<Symbol> symbols;
  symbols.clear();
  InitialSymbols(word, symbols);
  if (symbols.empty()) return;
  if (symbols.size() <= kSmallWord) {
    MergeSmall(symbols);
  } else {
    MergeWithQueue(symbols);
  }
  const size_t first = ids.size();
  for (int32_t i = 0; i != -1; i = symbols[i].next) ids.push_back(symbols[i].id);
  if (cacheable) cache_.Insert(word, ids.data() + first, ids.size() - first);
}

}  // namespace lantern::tokenizer
