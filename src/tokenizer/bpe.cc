#include "tokenizer/bpe.h"

#include <algorithm>
#include <cstdio>
#include <queue>

#include "tokenizer/unicode.h"

namespace lantern::tokenizer {
namespace {

constexpr uint64_t kEmptyKey = ~uint64_t{0};
// Words with more symbols than this are merged with a priority queue, shorter ones by
// rescanning, which is faster when there are few symbols.
constexpr size_t kSmallWord = 48;
// Longer words are not cached: they are rare and would crowd the cache.
constexpr size_t kMaxCachedWordBytes = 256;

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
      return InvalidArgument("BPE model: unk_token '" + *o.unk_token +
                             "' is not in the vocabulary");
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
  bpe->char_ids_.assign(512, -1);
  if (o.continuing_subword_prefix.empty() && o.end_of_word_suffix.empty()) {
    for (char32_t cp = 0; cp < 512; ++cp) {
      std::string s;
      AppendUtf8(cp, s);
      if (auto id = v.Find(s)) bpe->char_ids_[cp] = *id;
    }
  }

  size_t capacity = 16;
  while (capacity < merges.size() * 2) capacity <<= 1;
  bpe->merge_keys_.assign(capacity, kEmptyKey);
  bpe->merge_values_.resize(capacity);
  bpe->merge_mask_ = capacity - 1;
  const std::string& prefix = o.continuing_subword_prefix;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    auto left_id = v.Find(left);
    auto right_id = v.Find(right);
    if (!left_id || !right_id) {
      return InvalidArgument("BPE model: merge " + std::to_string(rank) + " ('" + left + "' '" +
                             right + "') uses a token that is not in the vocabulary");
    }
    std::string merged = left;
    merged.append(!prefix.empty() && right.starts_with(prefix)
                      ? std::string_view(right).substr(prefix.size())
                      : std::string_view(right));
    auto merged_id = v.Find(merged);
    if (!merged_id) {
      return InvalidArgument("BPE model: the result '" + merged + "' of merge " +
                             std::to_string(rank) + " is not in the vocabulary");
    }
    const uint64_t key = PairKey(*left_id, *right_id);
    uint64_t slot = HashKey(key) & bpe->merge_mask_;
    while (bpe->merge_keys_[slot] != kEmptyKey && bpe->merge_keys_[slot] != key) {
      slot = (slot + 1) & bpe->merge_mask_;
    }
    // A repeated pair keeps its last rank, as a hash map insert would.
    bpe->merge_keys_[slot] = key;
    bpe->merge_values_[slot] = {static_cast<uint32_t>(rank), *merged_id};
  }
  return bpe;
}

const Bpe::MergeResult* Bpe::FindMerge(int32_t left, int32_t right) const {
  const uint64_t key = PairKey(left, right);
  uint64_t slot = HashKey(key) & merge_mask_;
  while (true) {
    const uint64_t k = merge_keys_[slot];
    if (k == key) return &merge_values_[slot];
    if (k == kEmptyKey) return nullptr;
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
    if (!affixes && cp < 512) {
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
  struct Candidate {
    uint32_t rank;
    int32_t pos;
    int32_t id;
    bool operator>(const Candidate& other) const {
      return rank != other.rank ? rank > other.rank : pos > other.pos;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  auto consider = [&](int32_t pos) {
    if (pos < 0 || symbols[pos].next == -1) return;
    if (const MergeResult* m = FindMerge(symbols[pos].id, symbols[symbols[pos].next].id)) {
      queue.push({m->rank, pos, m->id});
    }
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(symbols.size()); ++i) consider(i);
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (left.length == 0 || left.next == -1) continue;
    const MergeResult* current = FindMerge(left.id, symbols[left.next].id);
    if (current == nullptr || current->rank != top.rank || current->id != top.id) continue;
    Symbol& right = symbols[left.next];
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
