// The host-side planning of the CUDA backend (model/device_plan.h): batch layout, memory
// plan, graph sizes. Runs on every machine; the GPU tests check the kernels that read it.
#include "model/device_plan.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "model/device.h"

namespace lantern::model {
namespace {

template <typename T>
std::vector<T> Read(const DeviceBatchLayout& l, size_t offset, int n) {
  std::vector<T> v(n);
  std::memcpy(v.data(), l.image.data() + offset, n * sizeof(T));
  return v;
}

struct TwoSequences {
  // A prefill chunk of 3 tokens at positions 14..16 (blocks 7, 2) asking for every row,
  // then a decode token at position 4 of blocks {5} asking for its last.
  std::vector<int32_t> tokens_a = {10, 11, 12}, table_a = {7, 2};
  std::vector<int32_t> tokens_b = {20}, table_b = {5};
  Batch batch;
  TwoSequences() {
    batch.sequences.push_back({tokens_a, 14, table_a, SequenceChunk::Logits::kAll});
    batch.sequences.push_back({tokens_b, 4, table_b, SequenceChunk::Logits::kLast});
  }
};

TEST(DeviceBatchLayout, EagerLayoutHoldsEveryArray) {
  TwoSequences t;
  const LayoutCapacity cap = CapacityFor(t.batch, 16);
  EXPECT_EQ(cap.rows, 4);
  EXPECT_EQ(cap.seqs, 2);
  EXPECT_EQ(cap.blocks_per_seq, 2);
  EXPECT_EQ(cap.logit_rows, 4);
  DeviceBatchLayout l;
  ASSERT_TRUE(BuildDeviceBatchLayout(t.batch, 16, cap, /*pad_block=*/99, 0, &l).ok());
  EXPECT_EQ(l.image.size(), DeviceBatchLayoutBytes(cap));
  EXPECT_EQ(l.num_rows, 4);
  EXPECT_EQ(l.real_rows, 4);
  EXPECT_EQ(l.num_seqs, 2);
  EXPECT_EQ(l.max_context, 17);
  EXPECT_EQ(l.max_num_new, 3);
  EXPECT_EQ(Read<int32_t>(l, l.token_ids, 4), (std::vector<int32_t>{10, 11, 12, 20}));
  EXPECT_EQ(Read<int32_t>(l, l.row_seq, 4), (std::vector<int32_t>{0, 0, 0, 1}));
  EXPECT_EQ(Read<int32_t>(l, l.row_pos, 4), (std::vector<int32_t>{14, 15, 16, 4}));
  // Positions 14, 15 in block 7; 16 in block 2 slot 0; 4 in block 5.
  EXPECT_EQ(Read<int64_t>(l, l.row_slot, 4),
            (std::vector<int64_t>{7 * 16 + 14, 7 * 16 + 15, 2 * 16, 5 * 16 + 4}));
  EXPECT_EQ(Read<int32_t>(l, l.seq_first_row, 2), (std::vector<int32_t>{0, 3}));
  EXPECT_EQ(Read<int32_t>(l, l.seq_num_new, 2), (std::vector<int32_t>{3, 1}));
  EXPECT_EQ(Read<int32_t>(l, l.seq_start_pos, 2), (std::vector<int32_t>{14, 4}));
  // Block tables padded with the pad block.
  EXPECT_EQ(Read<int32_t>(l, l.block_tables, 4), (std::vector<int32_t>{7, 2, 5, 99}));
  EXPECT_EQ(Read<int32_t>(l, l.logit_row_ids, 4), (std::vector<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(l.num_logit_rows, 4);
  for (size_t offset : {l.token_ids, l.row_seq, l.row_pos, l.row_slot, l.seq_first_row,
                        l.seq_num_new, l.seq_start_pos, l.block_tables, l.logit_row_ids}) {
    EXPECT_EQ(offset % 16, 0u);
  }
}

TEST(DeviceBatchLayout, GraphLayoutPadsRowsIntoThePadBlock) {
  std::vector<int32_t> tok = {42}, table = {3, 8};
  Batch batch;
  batch.sequences.push_back({tok, 20, table, SequenceChunk::Logits::kLast});
  ASSERT_TRUE(IsPureDecode(batch));
  const LayoutCapacity cap{.rows = 4, .seqs = 4, .blocks_per_seq = 8, .logit_rows = 4};
  DeviceBatchLayout l;
  ASSERT_TRUE(
      BuildDeviceBatchLayout(batch, 16, cap, /*pad_block=*/63, /*max_context=*/128, &l).ok());
  // Same offsets as any other batch of this capacity: a graph's pointers stay valid.
  DeviceBatchLayout other;
  ASSERT_TRUE(BuildDeviceBatchLayout(batch, 16, cap, 63, 128, &other).ok());
  EXPECT_EQ(l.block_tables, other.block_tables);
  EXPECT_EQ(l.num_rows, 4);
  EXPECT_EQ(l.real_rows, 1);
  EXPECT_EQ(l.num_seqs, 4);
  EXPECT_EQ(l.max_context, 128);
  EXPECT_EQ(l.max_num_new, 1);
  EXPECT_EQ(Read<int32_t>(l, l.token_ids, 4), (std::vector<int32_t>{42, 0, 0, 0}));
  EXPECT_EQ(Read<int32_t>(l, l.row_seq, 4), (std::vector<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(Read<int32_t>(l, l.row_pos, 4), (std::vector<int32_t>{20, 0, 0, 0}));
  EXPECT_EQ(Read<int64_t>(l, l.row_slot, 4),
            (std::vector<int64_t>{8 * 16 + 4, 63 * 16, 63 * 16, 63 * 16}));
  EXPECT_EQ(Read<int32_t>(l, l.seq_first_row, 4), (std::vector<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(Read<int32_t>(l, l.seq_num_new, 4), (std::vector<int32_t>{1, 1, 1, 1}));
  const auto tables = Read<int32_t>(l, l.block_tables, 32);
  EXPECT_EQ(tables[0], 3);
  EXPECT_EQ(tables[1], 8);
  for (int i = 2; i < 32; ++i) EXPECT_EQ(tables[i], 63) << i;
  EXPECT_EQ(l.num_logit_rows, 1);
  EXPECT_EQ(Read<int32_t>(l, l.logit_row_ids, 1), (std::vector<int32_t>{0}));
}

TEST(DeviceBatchLayout, RefusesABatchLargerThanItsRoom) {
  TwoSequences t;
  LayoutCapacity cap = CapacityFor(t.batch, 16);
  cap.rows -= 1;
  DeviceBatchLayout l;
  EXPECT_FALSE(BuildDeviceBatchLayout(t.batch, 16, cap, 0, 0, &l).ok());
  EXPECT_FALSE(IsPureDecode(t.batch));
}

TEST(DeviceBatchLayout, NoLogitsForAChunkThatAsksNone) {
  std::vector<int32_t> tok = {1, 2}, table = {0};
  Batch batch;
  batch.sequences.push_back({tok, 0, table, SequenceChunk::Logits::kNone});
  batch.sequences.push_back({tok, 0, table, SequenceChunk::Logits::kLast});
  DeviceBatchLayout l;
  ASSERT_TRUE(BuildDeviceBatchLayout(batch, 16, CapacityFor(batch, 16), 9, 0, &l).ok());
  EXPECT_EQ(l.num_logit_rows, 1);
  EXPECT_EQ(Read<int32_t>(l, l.logit_row_ids, 1), (std::vector<int32_t>{3}));
}

TEST(DeviceMemoryPlan, KvGetsTheBudgetLessWeightsActivationsAndContext) {
  constexpr size_t GiB = size_t{1} << 30;
  DeviceMemoryInput in;
  in.total_bytes = 80 * GiB;
  in.weight_bytes = 2 * GiB;
  in.workspace_bytes = 1 * GiB;
  in.free_bytes = 80 * GiB - 3 * GiB - GiB / 2;  // the context took half a GiB
  in.graph_bytes = GiB / 4;
  in.utilization = 0.9;
  in.kv_bytes_per_block = 1 << 20;
  auto plan = PlanDeviceMemory(in);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_EQ(plan->budget_bytes, static_cast<size_t>(80 * GiB * 0.9));
  EXPECT_EQ(plan->other_bytes, GiB / 2);
  const size_t expected = plan->budget_bytes - 3 * GiB - GiB / 2 - GiB / 4;
  EXPECT_EQ(plan->kv_blocks, static_cast<int64_t>(expected >> 20));
  EXPECT_EQ(plan->kv_bytes, static_cast<size_t>(plan->kv_blocks) << 20);
}

TEST(DeviceMemoryPlan, NeverMoreThanIsFree) {
  constexpr size_t GiB = size_t{1} << 30;
  // Another process holds 70 GiB: vLLM's budget counts it, the pool still fits in what is free.
  DeviceMemoryInput in{.total_bytes = 80 * GiB,
                       .free_bytes = 8 * GiB,
                       .weight_bytes = GiB,
                       .workspace_bytes = GiB,
                       .graph_bytes = 0,
                       .utilization = 1.0,
                       .kv_bytes_per_block = 1 << 20};
  auto plan = PlanDeviceMemory(in);
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  EXPECT_LE(plan->kv_bytes, 8 * GiB - (size_t{64} << 20));
  EXPECT_GT(plan->kv_blocks, 0);
}

TEST(DeviceMemoryPlan, WeightsThatDoNotFitSayWhatToChange) {
  constexpr size_t GiB = size_t{1} << 30;
  DeviceMemoryInput in{.total_bytes = 16 * GiB,
                       .free_bytes = 0,
                       .weight_bytes = 15 * GiB,
                       .workspace_bytes = GiB,
                       .graph_bytes = 0,
                       .utilization = 0.9,
                       .kv_bytes_per_block = 1 << 20};
  auto plan = PlanDeviceMemory(in);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("weights 15.00 GiB"), std::string::npos)
      << plan.status().message();
  EXPECT_NE(plan.status().message().find("--gpu-memory-utilization"), std::string::npos);
  in.utilization = 1.5;
  EXPECT_FALSE(PlanDeviceMemory(in).ok());
}

TEST(DeviceMemoryPlan, ActivationBytesGrowWithRows) {
  ModelConfig c;
  c.hidden_size = 64;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.head_dim = 16;
  c.intermediate_size = 128;
  c.vocab_size = 1000;
  const size_t one = LlamaActivationBytes(c, 1, 1);
  EXPECT_GE(one, 64 * 4 + 64 * 2 + 128 * 4 + 64 * 2 + 256 * 4 + 128 * 2 + 64 * 4 + 1000 * 4);
  EXPECT_GT(LlamaActivationBytes(c, 2048, 1), LlamaActivationBytes(c, 1024, 1));
  EXPECT_GT(LlamaActivationBytes(c, 8, 8), LlamaActivationBytes(c, 8, 1));
}

TEST(DecodeGraphs, SizesCoverMaxNumSeqs) {
  EXPECT_EQ(DecodeGraphSizes(1), (std::vector<int>{1}));
  EXPECT_EQ(DecodeGraphSizes(5), (std::vector<int>{1, 2, 4, 8}));
  EXPECT_EQ(DecodeGraphSizes(64), (std::vector<int>{1, 2, 4, 8, 16, 24, 32, 40, 48, 56, 64}));
  const auto big = DecodeGraphSizes(256);
  EXPECT_EQ(big.back(), 256);
  EXPECT_EQ(DecodeGraphSizes(100000).back(), 512);
  EXPECT_EQ(GraphSizeFor(big, 1), 1);
  EXPECT_EQ(GraphSizeFor(big, 3), 4);
  EXPECT_EQ(GraphSizeFor(big, 17), 24);
  EXPECT_EQ(GraphSizeFor(big, 65), 96);
  EXPECT_EQ(GraphSizeFor(big, 257), 0);
}

TEST(Device, ParsesVllmSpellings) {
  EXPECT_EQ(ParseDevice("cpu")->ToString(), "cpu");
  EXPECT_EQ(ParseDevice("cuda")->ToString(), "cuda:0");
  EXPECT_EQ(ParseDevice("cuda:3")->index, 3);
  EXPECT_TRUE(ParseDevice("cuda:1")->is_cuda());
  EXPECT_FALSE(ParseDevice("tpu").ok());
  EXPECT_FALSE(ParseDevice("cuda:").ok());
  EXPECT_FALSE(ParseDevice("cuda:-1").ok());
  EXPECT_FALSE(ParseDevice("cuda:1x").ok());
}

}  // namespace
}  // namespace lantern::model
