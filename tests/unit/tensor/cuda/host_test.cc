// The CUDA backend's host-side logic, which runs on every machine: no device needed.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "tensor/cuda/cuda_ops.h"
#include "tensor/cuda/paged_attention.h"
#include "tensor/half.h"

namespace lantern::tensor::cuda {
namespace {

TEST(CudaHostTest, DeviceCountIsZeroWithAReasonOrPositive) {
  std::string why;
  const int count = DeviceCount(&why);
  EXPECT_GE(count, 0);
  if (count == 0) {
    EXPECT_FALSE(why.empty());
  }
  EXPECT_EQ(DeviceCount(), count);  // the reason is optional, and asking twice is harmless
}

TEST(CudaHostTest, ConvertF32ToHalfRoundsAsTheCpuPath) {
  std::mt19937 rng(7);
  std::vector<float> values = {0.0f,
                               -0.0f,
                               1.0f,
                               -1.0f,
                               65504.0f,
                               65520.0f,
                               1e-8f,
                               6e-8f,
                               3.0e38f,
                               std::numeric_limits<float>::infinity(),
                               -std::numeric_limits<float>::infinity(),
                               std::numeric_limits<float>::quiet_NaN()};
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < 10000; ++i) {
    const uint32_t b = bits(rng);
    float f;
    std::memcpy(&f, &b, sizeof(f));
    values.push_back(f);
  }
  std::vector<uint16_t> bf16(values.size()), f16(values.size());
  ConvertF32ToHalf(values.data(), values.size(), Half::kBF16, bf16.data());
  ConvertF32ToHalf(values.data(), values.size(), Half::kF16, f16.data());
  for (size_t i = 0; i < values.size(); ++i) {
    ASSERT_EQ(bf16[i], FloatToBFloat16Bits(values[i])) << values[i];
    ASSERT_EQ(f16[i], FloatToHalfBits(values[i])) << values[i];
  }
  // Ties go to even: 1 + 2^-8 is halfway between two bfloat16 neighbours of 1.
  const float tie = 1.0f + 1.0f / 256;
  uint16_t out;
  ConvertF32ToHalf(&tie, 1, Half::kBF16, &out);
  EXPECT_EQ(out, 0x3F80);
}

TEST(CudaHostTest, PartitionsCoverEveryAttendedPositionOnce) {
  for (int64_t attended = 1; attended < 300000; attended += attended < 2000 ? 1 : 997) {
    const int parts = attention::NumPartitions(attended);
    ASSERT_GE(parts, 1);
    ASSERT_LE(parts, attention::kMaxPartitions);
    const int64_t size = attention::PartitionSize(attended, parts);
    // Partitions [p * size, min((p + 1) * size, attended)) tile [0, attended), none empty.
    ASSERT_GE(size * parts, attended) << attended;
    ASSERT_LT(size * (parts - 1), attended) << attended;
    if (attended <= attention::kPartitionUnit) {
      ASSERT_EQ(parts, 1);
    }
  }
}

AttentionBatch Batch(int num_rows, int num_seqs, int max_context) {
  AttentionBatch batch;
  batch.num_rows = num_rows;
  batch.num_seqs = num_seqs;
  batch.max_context = max_context;
  batch.max_blocks_per_seq = (max_context + 15) / 16;
  batch.max_num_new = 1;
  return batch;
}

TEST(CudaHostTest, WorkspaceIsEmptyForShortContexts) {
  EXPECT_EQ(PagedAttentionWorkspaceBytes(Batch(64, 64, 512), 32, 128), 0u);
  EXPECT_EQ(PagedAttentionWorkspaceBytes(Batch(1, 1, 1), 32, 128), 0u);
}

TEST(CudaHostTest, WorkspaceHoldsEveryPartialOfTheLongestContext) {
  // 3 sequences, 8 heads, head_dim 64, contexts up to 1500: 3 partitions each.
  const size_t bytes = PagedAttentionWorkspaceBytes(Batch(3, 3, 1500), 8, 64);
  const size_t partials = 3 * 8 * 3;
  EXPECT_GE(bytes, partials * (64 + 2) * sizeof(float));
  EXPECT_LE(bytes, partials * (64 + 2) * sizeof(float) + 3 * 256);
  // Contexts past kMaxPartitions * kPartitionUnit stop growing the workspace.
  const size_t capped = PagedAttentionWorkspaceBytes(Batch(1, 1, 1 << 20), 8, 64);
  EXPECT_EQ(capped, PagedAttentionWorkspaceBytes(Batch(1, 1, 1 << 22), 8, 64));
  EXPECT_GE(capped, static_cast<size_t>(attention::kMaxPartitions) * 8 * 66 * sizeof(float));
}

TEST(CudaHostTest, BadAttentionArgumentsComeBackFromLastLaunchError) {
  // Checked on the host before any launch, so this runs without a device too.
  PagedKvLayer kv;
  kv.num_kv_heads = 3;
  kv.head_dim = 64;
  AttentionBatch batch = Batch(1, 1, 10);
  PagedAttention(kv, batch, nullptr, 0, /*num_heads=*/8, nullptr, Half::kBF16, 0, 0, nullptr, 0,
                 nullptr);
  const Status status = LastLaunchError();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status.ToString();
  EXPECT_NE(status.ToString().find("KV heads"), std::string::npos) << status.ToString();

  kv.num_kv_heads = 2;
  kv.head_dim = 512;
  PagedAttention(kv, batch, nullptr, 0, 8, nullptr, Half::kBF16, 0, 0, nullptr, 0, nullptr);
  EXPECT_EQ(LastLaunchError().code(), StatusCode::kInvalidArgument);

  kv.head_dim = 64;
  batch = Batch(1, 1, 5000);  // needs a workspace, none given
  PagedAttention(kv, batch, nullptr, 0, 8, nullptr, Half::kBF16, 0, 0, nullptr, 0, nullptr);
  const Status workspace = LastLaunchError();
  EXPECT_NE(workspace.ToString().find("workspace"), std::string::npos) << workspace.ToString();
}

}  // namespace
}  // namespace lantern::tensor::cuda
