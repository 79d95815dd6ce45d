// The fixed pool of KV blocks: reference counts, a free list in eviction order, and the
// prefix cache (full blocks findable by the hash of their tokens chained with their prefix).
// A freed block that holds a cached prefix stays findable until it is reused (LRU).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

namespace lantern::engine {

// Chained hash of one full block: its parent's hash and its tokens.
uint64_t HashBlock(uint64_t parent_hash, std::span<const int32_t> tokens);

class BlockPool {
 public:
  BlockPool(int num_blocks, int block_size);

  int num_blocks() const { return static_cast<int>(blocks_.size()); }
  int block_size() const { return block_size_; }
  // Blocks that can be handed out now: unreferenced ones, cached or not.
  int num_free() const { return num_free_; }
  int num_used() const { return num_blocks() - num_free_; }
  int ref_count(int block) const { return blocks_[block].ref_count; }
  int num_cached() const { return static_cast<int>(cache_.size()); }

  // Takes the least recently freed block (dropping its cached prefix); none when empty.
  std::optional<int> Allocate();
  // Adds a reference to a block found in the cache (taking it off the free list if needed).
  void Retain(int block);
  // Drops a reference; at zero the block joins the free list as most recently used.
  void Release(int block);

  // The cached block holding `tokens` after the prefix `parent_hash`, if any.
  std::optional<int> Lookup(uint64_t hash, uint64_t parent_hash,
                            std::span<const int32_t> tokens) const;
  // Makes a computed full block findable. No-op if an equal block is already cached.
  void Register(int block, uint64_t hash, uint64_t parent_hash, std::span<const int32_t> tokens);
  // Drops every cached prefix (the blocks' contents stay; nothing refers to them by hash).
  void ClearCache();

 private:
  static constexpr int kNone = -1;
  struct Block {
    int ref_count = 0;
    int prev = kNone, next = kNone;  // free list links
    bool cached = false;
    uint64_t hash = 0, parent_hash = 0;
    std::vector<int32_t> tokens;  // to verify a hash hit exactly
  };
  void Unlink(int block);
  void PushBack(int block);
  void Uncache(int block);

  int block_size_;
  std::vector<Block> blocks_;
  int head_ = kNone, tail_ = kNone;  // free list: head is evicted first
  int num_free_ = 0;
  std::unordered_map<uint64_t, int> cache_;
};

}  // namespace lantern::engine
