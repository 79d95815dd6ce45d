#include "engine/scheduler.h"

#include <algorithm>
#include <cassert>

namespace lantern::engine {

Scheduler::Scheduler(const SchedulerConfig& config, BlockPool* pool)
    : config_(config), pool_(pool) {}

void Scheduler::AddWaiting(Sequence* seq) {
  seq->status = SequenceStatus::kWaiting;
  auto at =
      std::upper_bound(waiting_.begin(), waiting_.end(), seq,
                       [](const Sequence* a, const Sequence* b) { return a->order < b->order; });
  waiting_.insert(at, seq);
}

void Scheduler::HashFullBlocks(Sequence* seq) {
  const int bs = pool_->block_size();
  const size_t full = seq->tokens.size() / bs;
  while (seq->block_hashes.size() < full) {
    const size_t i = seq->block_hashes.size();
    const uint64_t parent = i == 0 ? seq->cache_salt : seq->block_hashes[i - 1];
    std::span<const int32_t> tokens(seq->tokens.data() + i * bs, bs);
    seq->block_hashes.push_back(HashBlock(parent, tokens));
  }
}

std::vector<int32_t> Scheduler::FindCachedPrefix(Sequence* seq) {
  std::vector<int32_t> blocks;
  if (!seq->use_prefix_cache || !seq->allow_prefix_hits) return blocks;
  const int bs = pool_->block_size();
  HashFullBlocks(seq);
  // The last token is always computed: its logits are what the step is for.
  const size_t max_blocks = (seq->tokens.size() - 1) / bs;
  for (size_t i = 0; i < max_blocks; ++i) {
    const uint64_t parent = i == 0 ? seq->cache_salt : seq->block_hashes[i - 1];
    std::span<const int32_t> tokens(seq->tokens.data() + i * bs, bs);
    auto block = pool_->Lookup(seq->block_hashes[i], parent, tokens);
    if (!block) break;
    blocks.push_back(*block);
  }
  prefix_stats_.queries += seq->tokens.size();
  prefix_stats_.hits += blocks.size() * bs;
  return blocks;
}

bool Scheduler::AllocateSlots(Sequence* seq, int num_new, const std::vector<int32_t>& cached) {
  const int bs = pool_->block_size();
  const int have = static_cast<int>(seq->block_table.size() + cached.size());
  const int computed = seq->num_computed + static_cast<int>(cached.size()) * bs;
  const int needed = std::max(0, (computed + num_new + bs - 1) / bs - have);
  // Cached blocks nobody holds sit in the free list: taking them uses free blocks too.
  int cached_free = 0;
  for (int32_t b : cached) cached_free += pool_->ref_count(b) == 0;
  if (needed > pool_->num_free() - cached_free) return false;
  for (int32_t b : cached) {
    pool_->Retain(b);
    seq->block_table.push_back(b);
  }
  seq->num_registered_blocks += static_cast<int>(cached.size());
  for (int i = 0; i < needed; ++i) seq->block_table.push_back(*pool_->Allocate());
  return true;
}

void Scheduler::FreeBlocks(Sequence* seq) {
  // In reverse, so that a sequence's tail blocks are evicted before its shared prefix.
  for (auto it = seq->block_table.rbegin(); it != seq->block_table.rend(); ++it) {
    pool_->Release(*it);
  }
  seq->block_table.clear();
  seq->num_registered_blocks = 0;
}

void Scheduler::Preempt(Sequence* seq) {
  FreeBlocks(seq);
  seq->num_computed = 0;
  seq->status = SequenceStatus::kWaiting;
  ++seq->num_preemptions;
  ++num_preemptions_;
  waiting_.push_front(seq);
}

SchedulerOutput Scheduler::Schedule() {
  SchedulerOutput out;
  int budget = config_.max_num_batched_tokens;

  for (size_t i = 0; i < running_.size() && budget > 0;) {
    Sequence* seq = running_[i];
    const int num_new = std::min(seq->num_tokens() - seq->num_computed, budget);
    bool scheduled = false;
    for (;;) {
      if (AllocateSlots(seq, num_new, {})) {
        scheduled = true;
        break;
      }
      Sequence* victim = running_.back();
      running_.pop_back();
      Preempt(victim);
      out.preempted.push_back(victim);
      if (victim == seq) break;
    }
    if (!scheduled) break;  // `seq` itself was the last running one
    out.chunks.push_back({seq, num_new});
    budget -= num_new;
    ++i;
  }

  // Like vLLM, admit nobody in a step that had to preempt: the pool is short.
  while (out.preempted.empty() && !waiting_.empty() && budget > 0 &&
         static_cast<int>(running_.size()) < config_.max_num_seqs) {
    Sequence* seq = waiting_.front();
    assert(seq->num_computed == 0 && seq->block_table.empty());
    std::vector<int32_t> cached = FindCachedPrefix(seq);
    const int num_cached = static_cast<int>(cached.size()) * pool_->block_size();
    const int num_new = std::min(seq->num_tokens() - num_cached, budget);
    if (!AllocateSlots(seq, num_new, cached)) break;
    seq->num_computed = num_cached;
    waiting_.pop_front();
    seq->status = SequenceStatus::kRunning;
    running_.push_back(seq);
    out.admitted.push_back(seq);
    out.chunks.push_back({seq, num_new});
    budget -= num_new;
  }
  return out;
}

void Scheduler::Computed(Sequence* seq, int num_new_tokens) {
  seq->num_computed += num_new_tokens;
  if (!seq->use_prefix_cache) return;
  const int bs = pool_->block_size();
  const int full = std::min<int>(seq->num_computed / bs, seq->block_table.size());
  if (full <= seq->num_registered_blocks) return;
  HashFullBlocks(seq);
  for (int i = seq->num_registered_blocks; i < full; ++i) {
    const uint64_t parent = i == 0 ? seq->cache_salt : seq->block_hashes[i - 1];
    std::span<const int32_t> tokens(seq->tokens.data() + static_cast<size_t>(i) * bs, bs);
    pool_->Register(seq->block_table[i], seq->block_hashes[i], parent, tokens);
  }
  seq->num_registered_blocks = full;
}

void Scheduler::Remove(Sequence* seq) {
  if (auto it = std::find(running_.begin(), running_.end(), seq); it != running_.end()) {
    running_.erase(it);
  }
  if (auto it = std::find(waiting_.begin(), waiting_.end(), seq); it != waiting_.end()) {
    waiting_.erase(it);
  }
  FreeBlocks(seq);
  seq->status = SequenceStatus::kFinished;
}

}  // namespace lantern::engine
