// The block pool (reference counts, LRU free list, prefix cache) and the scheduler's
// policy (token budget, chunked prefill, FCFS, preemption, prefix-cache hits), driven
// directly with sequences and no model.
#include <gtest/gtest.h>

#include <memory>
#include <numeric>
#include <vector>

#include "engine/block_pool.h"
#include "engine/scheduler.h"

namespace lantern::engine {
namespace {

std::vector<int32_t> Tokens(int n, int first = 1) {
  std::vector<int32_t> t(n);
  std::iota(t.begin(), t.end(), first);
  return t;
}

TEST(BlockPoolTest, AllocatesEveryBlockOnceAndReusesLeastRecentlyFreed) {
  BlockPool pool(3, 4);
  std::vector<int> got;
  for (int i = 0; i < 3; ++i) got.push_back(*pool.Allocate());
  EXPECT_FALSE(pool.Allocate());
  EXPECT_EQ(pool.num_used(), 3);
  pool.Release(got[2]);
  pool.Release(got[0]);
  EXPECT_EQ(pool.num_free(), 2);
  EXPECT_EQ(*pool.Allocate(), got[2]);  // freed first, reused first
  EXPECT_EQ(*pool.Allocate(), got[0]);
}

TEST(BlockPoolTest, CachedBlocksStayFindableUntilReused) {
  BlockPool pool(2, 4);
  const auto tokens = Tokens(4);
  const int a = *pool.Allocate();
  const uint64_t h = HashBlock(0, tokens);
  pool.Register(a, h, 0, tokens);
  pool.Release(a);
  ASSERT_EQ(pool.Lookup(h, 0, tokens), a);
  // Same hash, other tokens or other parent: a collision, never a hit.
  EXPECT_FALSE(pool.Lookup(h, 0, Tokens(4, 2)));
  EXPECT_FALSE(pool.Lookup(h, 1, tokens));
  pool.Retain(a);  // a hit takes it off the free list
  EXPECT_EQ(pool.num_free(), 1);
  pool.Release(a);
  const int b = *pool.Allocate();  // the never-cached block goes first
  EXPECT_NE(b, a);
  EXPECT_EQ(pool.Lookup(h, 0, tokens), a);
  EXPECT_EQ(*pool.Allocate(), a);  // evicted now
  EXPECT_FALSE(pool.Lookup(h, 0, tokens));
}

TEST(BlockPoolTest, HashChainsThePrefix) {
  const auto t = Tokens(4);
  EXPECT_NE(HashBlock(0, t), HashBlock(1, t));
  EXPECT_NE(HashBlock(0, t), HashBlock(0, Tokens(4, 2)));
  EXPECT_EQ(HashBlock(5, t), HashBlock(5, t));
}

struct Fixture {
  Fixture(int blocks, int block_size, SchedulerConfig config)
      : pool(blocks, block_size), scheduler(config, &pool) {}
  Sequence* Add(int prompt_len, int first_token = 1, bool prefix_cache = true) {
    auto seq = std::make_unique<Sequence>();
    seq->order = seqs.size();
    seq->tokens = Tokens(prompt_len, first_token);
    seq->num_prompt_tokens = prompt_len;
    seq->use_prefix_cache = prefix_cache;
    seqs.push_back(std::move(seq));
    scheduler.AddWaiting(seqs.back().get());
    return seqs.back().get();
  }
  // Runs the model's part of a step: every chunk computed, sampled ones get a token.
  SchedulerOutput Step() {
    SchedulerOutput out = scheduler.Schedule();
    for (const auto& c : out.chunks) {
      scheduler.Computed(c.seq, c.num_new_tokens);
      if (c.seq->num_computed == c.seq->num_tokens()) c.seq->tokens.push_back(7);
    }
    return out;
  }
  BlockPool pool;
  Scheduler scheduler;
  std::vector<std::unique_ptr<Sequence>> seqs;
};

TEST(SchedulerTest, ChunksLongPromptsToTheTokenBudget) {
  Fixture f(64, 4, {8, 8});
  Sequence* s = f.Add(20);
  std::vector<int> chunks;
  for (int i = 0; i < 4; ++i) chunks.push_back(f.Step().chunks.at(0).num_new_tokens);
  EXPECT_EQ(chunks, (std::vector<int>{8, 8, 4, 1}));
  EXPECT_EQ(s->num_output(), 2);
  EXPECT_EQ(s->block_table.size(), 6u);  // 22 tokens in KV after the next step: ceil(21/4)
}

TEST(SchedulerTest, DecodesFirstThenPrefillsFillTheBudgetInArrivalOrder) {
  Fixture f(64, 4, {8, 10});
  Sequence* a = f.Add(3);
  f.Step();  // a prefilled, one token out
  Sequence* b = f.Add(20);
  Sequence* c = f.Add(2);
  SchedulerOutput out = f.Step();
  ASSERT_EQ(out.chunks.size(), 2u);
  EXPECT_EQ(out.chunks[0].seq, a);
  EXPECT_EQ(out.chunks[0].num_new_tokens, 1);
  EXPECT_EQ(out.chunks[1].seq, b);
  EXPECT_EQ(out.chunks[1].num_new_tokens, 9);  // the rest of the budget; c waits (FCFS)
  EXPECT_EQ(c->status, SequenceStatus::kWaiting);
}

TEST(SchedulerTest, RespectsMaxNumSeqs) {
  Fixture f(64, 4, {2, 100});
  f.Add(3);
  f.Add(3);
  f.Add(3);
  EXPECT_EQ(f.Step().chunks.size(), 2u);
  EXPECT_EQ(f.scheduler.num_waiting(), 1u);
}

TEST(SchedulerTest, PreemptsTheLatestAdmittedWhenBlocksRunOut) {
  // 4 blocks of 4 tokens; two sequences of 8 tokens each hold 2 blocks and both need a
  // third to go on.
  Fixture f(4, 4, {8, 64});
  Sequence* a = f.Add(8, 1, /*prefix_cache=*/false);
  Sequence* b = f.Add(8, 100, /*prefix_cache=*/false);
  f.Step();  // both prefilled, 2 blocks each, one token out each
  EXPECT_EQ(f.pool.num_free(), 0);
  SchedulerOutput out = f.Step();
  ASSERT_EQ(out.preempted.size(), 1u);
  EXPECT_EQ(out.preempted[0], b);
  EXPECT_EQ(b->num_computed, 0);
  EXPECT_TRUE(b->block_table.empty());
  EXPECT_EQ(b->num_preemptions, 1);
  ASSERT_EQ(out.chunks.size(), 1u);
  EXPECT_EQ(out.chunks[0].seq, a);
  EXPECT_LE(f.pool.num_used(), 4);
  // a runs alone until it finishes; then b is recomputed, prompt and generated token.
  f.scheduler.Remove(a);
  EXPECT_EQ(f.pool.num_used(), 0);
  out = f.Step();
  ASSERT_EQ(out.admitted.size(), 1u);
  EXPECT_EQ(out.admitted[0], b);
  EXPECT_EQ(out.chunks[0].num_new_tokens, 9);
}

TEST(SchedulerTest, ReusesCachedPrefixBlocksButComputesTheLastToken) {
  Fixture f(16, 4, {8, 64});
  Sequence* a = f.Add(12);
  f.Step();  // 12 prompt tokens computed: 3 full blocks cached
  const auto a_blocks = a->block_table;
  Sequence* b = f.Add(12);  // same prompt
  SchedulerOutput out = f.Step();
  ASSERT_EQ(out.admitted.size(), 1u);
  // Only 2 blocks reused: the last token must be computed for its logits.
  EXPECT_EQ(b->block_table[0], a_blocks[0]);
  EXPECT_EQ(b->block_table[1], a_blocks[1]);
  EXPECT_EQ(out.chunks.back().num_new_tokens, 4);
  EXPECT_EQ(f.pool.ref_count(a_blocks[0]), 2);
  EXPECT_EQ(f.scheduler.prefix_cache_stats().hits, 8u);
  EXPECT_EQ(f.scheduler.prefix_cache_stats().queries, 24u);
  // A different prompt shares nothing; a different salt shares nothing either.
  Sequence* c = f.Add(12, 50);
  Sequence* d = f.Add(12);
  d->cache_salt = 99;
  f.Step();
  EXPECT_EQ(f.scheduler.prefix_cache_stats().hits, 8u);
  EXPECT_NE(c->block_table[0], a_blocks[0]);
  EXPECT_NE(d->block_table[0], a_blocks[0]);
}

TEST(SchedulerTest, FreedBlocksAllReturn) {
  Fixture f(8, 4, {8, 16});
  std::vector<Sequence*> seqs;
  for (int i = 0; i < 5; ++i) seqs.push_back(f.Add(5 + i, i * 10));
  for (int step = 0; step < 30; ++step) {
    f.Step();
    EXPECT_LE(f.pool.num_used(), 8);
  }
  for (Sequence* s : seqs) f.scheduler.Remove(s);
  EXPECT_EQ(f.pool.num_used(), 0);
  EXPECT_TRUE(f.scheduler.idle());
}

}  // namespace
}  // namespace lantern::engine
