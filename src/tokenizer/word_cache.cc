#include "tokenizer/word_cache.h"

namespace lantern::tokenizer {

bool WordCache::Lookup(std::string_view word, std::vector<int32_t>& ids) const {
  const Shard& shard = ShardFor(word);
  std::lock_guard lock(shard.mu);
  auto it = shard.words.find(word);
  if (it == shard.words.end()) return false;
  ids.insert(ids.end(), it->second.begin(), it->second.end());
  return true;
}

void WordCache::Insert(std::string_view word, const int32_t* ids, size_t count) {
  Shard& shard = const_cast<Shard&>(ShardFor(word));
  std::lock_guard lock(shard.mu);
  if (shard.words.size() >= shard_capacity_) return;
  shard.words.emplace(std::string(word), std::vector<int32_t>(ids, ids + count));
}

}  // namespace lantern::tokenizer
