// A bounded, thread-safe cache from a pre-tokenized word to its token ids. Sharded so
// that concurrent encoders rarely contend; once a shard is full it stops growing.
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/vocab.h"

namespace lantern::tokenizer {

class WordCache {
 public:
  explicit WordCache(size_t capacity = 1 << 16) : shard_capacity_(capacity / kShards) {}

  // Appends the cached ids of `word` to `ids` and returns true, or returns false.
  bool Lookup(std::string_view word, std::vector<int32_t>& ids) const;
  void Insert(std::string_view word, const int32_t* ids, size_t count);

 private:
  static constexpr size_t kShards = 16;
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> words;
  };
  const Shard& ShardFor(std::string_view word) const {
    return shards_[StringHash()(word) % kShards];
  }

  size_t shard_capacity_;
  std::array<Shard, kShards> shards_;
};

}  // namespace lantern::tokenizer
