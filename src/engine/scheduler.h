// The scheduler in the style of vLLM V1, with the KV block manager: each step spends a
// token budget on the running sequences first (decodes, unfinished prefill chunks), then
// admits waiting ones first come first served, chunking prompts to fill the budget. When
// the pool runs dry the most recently admitted running sequence is preempted (its blocks
// freed, to be recomputed later). Full blocks are cached by content hash for reuse.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "engine/block_pool.h"
#include "engine/sequence.h"

namespace lantern::engine {

struct SchedulerConfig {
  int max_num_seqs = 256;
  int max_num_batched_tokens = 2048;
};

struct ScheduledChunk {
  Sequence* seq = nullptr;
  int num_new_tokens = 0;  // tokens [num_computed, num_computed + num_new_tokens) to compute
};

struct SchedulerOutput {
  std::vector<ScheduledChunk> chunks;  // running sequences first, then admitted ones
  std::vector<Sequence*> admitted;     // left the waiting queue this step
  std::vector<Sequence*> preempted;    // went back to the waiting queue this step
  bool empty() const { return chunks.empty(); }
};

struct PrefixCacheStats {
  uint64_t queries = 0;  // tokens looked up
  uint64_t hits = 0;     // tokens found
};

class Scheduler {
 public:
  Scheduler(const SchedulerConfig& config, BlockPool* pool);

  // Queues a sequence by its `order` (FCFS).
  void AddWaiting(Sequence* seq);
  SchedulerOutput Schedule();
  // After the model computed a chunk: advance the sequence and cache its new full blocks.
  void Computed(Sequence* seq, int num_new_tokens);
  // Removes a sequence wherever it is and frees its blocks.
  void Remove(Sequence* seq);

  size_t num_waiting() const { return waiting_.size(); }
  size_t num_running() const { return running_.size(); }
  bool idle() const { return waiting_.empty() && running_.empty(); }
  const PrefixCacheStats& prefix_cache_stats() const { return prefix_stats_; }
  uint64_t num_preemptions() const { return num_preemptions_; }
  const BlockPool& pool() const { return *pool_; }

 private:
  // Hashes the full blocks of seq->tokens not hashed yet.
  void HashFullBlocks(Sequence* seq);
  // Cached leading blocks of the sequence, leaving at least its last token to compute.
  std::vector<int32_t> FindCachedPrefix(Sequence* seq);
  // Gives the sequence blocks for `num_new` more tokens after `cached` (new to its table);
  // false, changing nothing, if the pool has too few free blocks.
  bool AllocateSlots(Sequence* seq, int num_new, const std::vector<int32_t>& cached);
  void FreeBlocks(Sequence* seq);
  void Preempt(Sequence* seq);

  SchedulerConfig config_;
  BlockPool* pool_;
  std::deque<Sequence*> waiting_;
  std::vector<Sequence*> running_;  // in admission order
  PrefixCacheStats prefix_stats_;
  uint64_t num_preemptions_ = 0;
};

}  // namespace lantern::engine
