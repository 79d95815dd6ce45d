// Internal to the paged attention kernels (paged_attention*.cu): the split-K arithmetic
// shared by the host (workspace sizing, launch shapes) and the device, and the kernels'
// launchers. Not part of the public contract (cuda_ops.h).
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/cuda/cuda_ops.h"

#ifdef __CUDACC__
#define LANTERN_HOST_DEVICE __host__ __device__
#else
#define LANTERN_HOST_DEVICE
#endif

namespace lantern::tensor::cuda::attention {

// The largest head_dim the kernels take (Gemma's 256).
constexpr int kMaxHeadDim = 256;

// Decode rows (sequences with one new token) split their attended positions into up to
// kMaxPartitions partitions of at least kPartitionUnit positions, each a thread block, whose
// partial softmax sums a second kernel combines. The split depends only on the row's own
// number of attended positions, so a row's result does not depend on the rest of the batch.
constexpr int kPartitionUnit = 512;
constexpr int kMaxPartitions = 32;

LANTERN_HOST_DEVICE inline int NumPartitions(int64_t attended) {
  if (attended <= kPartitionUnit) return 1;
  const int64_t n = (attended + kPartitionUnit - 1) / kPartitionUnit;
  return n < kMaxPartitions ? static_cast<int>(n) : kMaxPartitions;
}

// Positions per partition: ceil(attended / partitions).
LANTERN_HOST_DEVICE inline int64_t PartitionSize(int64_t attended, int partitions) {
  return (attended + partitions - 1) / partitions;
}

// The workspace of a batch: for each sequence, head and partition, the partial output
// (head_dim floats, not normalized), the partial max and the partial sum of exponentials.
struct WorkspaceLayout {
  int max_partitions = 1;                                 // over the batch (from max_context)
  size_t acc_offset = 0, max_offset = 0, sum_offset = 0;  // bytes
  size_t bytes = 0;  // 0 when no row needs more than one partition
};

inline WorkspaceLayout LayoutWorkspace(const AttentionBatch& batch, int num_heads, int head_dim) {
  WorkspaceLayout layout;
  layout.max_partitions = NumPartitions(batch.max_context);
  if (layout.max_partitions <= 1 || batch.num_seqs <= 0 || num_heads <= 0) return layout;
  const size_t partials = static_cast<size_t>(batch.num_seqs) * static_cast<size_t>(num_heads) *
                          static_cast<size_t>(layout.max_partitions);
  const auto align = [](size_t bytes) { return (bytes + 255) / 256 * 256; };
  layout.acc_offset = 0;
  layout.max_offset = align(partials * static_cast<size_t>(head_dim) * sizeof(float));
  layout.sum_offset = layout.max_offset + align(partials * sizeof(float));
  layout.bytes = layout.sum_offset + align(partials * sizeof(float));
  return layout;
}

// The kernels' launchers (paged_attention_decode.cu, paged_attention_prefill.cu).
void LaunchDecode(const PagedKvLayer& kv, const AttentionBatch& batch, const float* d_q,
                  int64_t ldq, int num_heads, void* d_out, Half out_type, int64_t ldo,
                  int sliding_window, const WorkspaceLayout& layout, void* d_workspace,
                  Stream stream);
void LaunchPrefill(const PagedKvLayer& kv, const AttentionBatch& batch, const float* d_q,
                   int64_t ldq, int num_heads, void* d_out, Half out_type, int64_t ldo,
                   int sliding_window, Stream stream);

}  // namespace lantern::tensor::cuda::attention
