#include "engine/block_pool.h"

#include <algorithm>
#include <cassert>

namespace lantern::engine {

uint64_t HashBlock(uint64_t parent_hash, std::span<const int32_t> tokens) {
  uint64_t h = parent_hash ^ 0x6A09E667F3BCC909ull;
  auto mix = [](uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  for (int32_t t : tokens) h = mix(h + 0x9E3779B97F4A7C15ull + static_cast<uint32_t>(t));
  return mix(h + tokens.size());
}

BlockPool::BlockPool(int num_blocks, int block_size)
    : block_size_(block_size), blocks_(num_blocks) {
  for (int b = 0; b < num_blocks; ++b) PushBack(b);
}

void BlockPool::Unlink(int b) {
  Block& block = blocks_[b];
  (block.prev == kNone ? head_ : blocks_[block.prev].next) = block.next;
  (block.next == kNone ? tail_ : blocks_[block.next].prev) = block.prev;
  block.prev = block.next = kNone;
  --num_free_;
}

void BlockPool::PushBack(int b) {
  Block& block = blocks_[b];
  block.prev = tail_;
  block.next = kNone;
  (tail_ == kNone ? head_ : blocks_[tail_].next) = b;
  tail_ = b;
  ++num_free_;
}

void BlockPool::Uncache(int b) {
  Block& block = blocks_[b];
  if (!block.cached) return;
  auto it = cache_.find(block.hash);
  if (it != cache_.end() && it->second == b) cache_.erase(it);
  block.cached = false;
  block.tokens.clear();
}

std::optional<int> BlockPool::Allocate() {
  if (head_ == kNone) return std::nullopt;
  const int b = head_;
  Unlink(b);
  Uncache(b);
  blocks_[b].ref_count = 1;
  return b;
}

void BlockPool::Retain(int b) {
  if (blocks_[b].ref_count++ == 0) Unlink(b);
}

void BlockPool::Release(int b) {
  assert(blocks_[b].ref_count > 0);
  if (--blocks_[b].ref_count == 0) PushBack(b);
}

std::optional<int> BlockPool::Lookup(uint64_t hash, uint64_t parent_hash,
                                     std::span<const int32_t> tokens) const {
  auto it = cache_.find(hash);
  if (it == cache_.end()) return std::nullopt;
  const Block& block = blocks_[it->second];
  if (block.parent_hash != parent_hash || block.tokens.size() != tokens.size() ||
      !std::equal(tokens.begin(), tokens.end(), block.tokens.begin())) {
    return std::nullopt;  // a 64-bit hash collision: treat as a miss
  }
  return it->second;
}

void BlockPool::Register(int b, uint64_t hash, uint64_t parent_hash,
                         std::span<const int32_t> tokens) {
  Block& block = blocks_[b];
  if (block.cached || cache_.count(hash)) return;
  cache_.emplace(hash, b);
  block.cached = true;
  block.hash = hash;
  block.parent_hash = parent_hash;
  block.tokens.assign(tokens.begin(), tokens.end());
}

void BlockPool::ClearCache() {
  for (int b = 0; b < num_blocks(); ++b) Uncache(b);
}

}  // namespace lantern::engine
