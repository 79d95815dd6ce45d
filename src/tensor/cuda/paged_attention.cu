// The paged KV cache's writes and the attention entry point: checks the arguments, then runs
// the decode kernel (sequences with one new token, split-K over long contexts) and, when the
// batch has longer chunks, the tiled prefill kernel; each sequence is handled by exactly one.
#include <string>

#include "tensor/cuda/cuda_ops.h"
#include "tensor/cuda/cuda_util.h"
#include "tensor/cuda/paged_attention.h"

namespace lantern::tensor::cuda {
namespace {

// Block per row; threads over (kv head, d). A negative slot (a padding row) is skipped.
template <typename KV>
__global__ void WritePagedKvKernel(PagedKvLayer kv, const int64_t* __restrict__ row_slot,
                                   const float* __restrict__ k, int64_t ldk,
                                   const float* __restrict__ v, int64_t ldv) {
  const int64_t slot_id = row_slot[blockIdx.x];
  if (slot_id < 0) return;
  const int hd = kv.head_dim, bs = kv.block_size;
  const int64_t block = slot_id / bs;
  const int slot = static_cast<int>(slot_id % bs);
  KV* keys = static_cast<KV*>(kv.keys) + block * kv.block_stride;
  KV* values = static_cast<KV*>(kv.values) + block * kv.block_stride;
  const float* krow = k + blockIdx.x * ldk;
  const float* vrow = v + blockIdx.x * ldv;
  for (int i = threadIdx.x; i < kv.num_kv_heads * hd; i += blockDim.x) {
    const int h = i / hd, d = i % hd;
    keys[(static_cast<int64_t>(h) * hd + d) * bs + slot] = FromFloat<KV>(krow[i]);
    values[(static_cast<int64_t>(h) * bs + slot) * hd + d] = FromFloat<KV>(vrow[i]);
  }
}

std::string CheckArguments(const PagedKvLayer& kv, const AttentionBatch& batch, int num_heads) {
  if (kv.head_dim <= 0 || kv.head_dim > attention::kMaxHeadDim) {
    return "head_dim " + std::to_string(kv.head_dim) + " outside 1.." +
           std::to_string(attention::kMaxHeadDim);
  }
  if (kv.num_kv_heads <= 0 || num_heads <= 0 || num_heads % kv.num_kv_heads != 0) {
    return std::to_string(num_heads) + " query heads do not group over " +
           std::to_string(kv.num_kv_heads) + " KV heads";
  }
  if (kv.block_size <= 0) return "block_size " + std::to_string(kv.block_size);
  if (batch.max_blocks_per_seq <= 0) return "empty block tables";
  return "";
}

}  // namespace

void WritePagedKv(const PagedKvLayer& kv, const AttentionBatch& batch, const float* d_k,
                  int64_t ldk, const float* d_v, int64_t ldv, Stream stream) {
  if (batch.num_rows <= 0 || kv.num_kv_heads <= 0 || kv.head_dim <= 0) return;
  const int work = kv.num_kv_heads * kv.head_dim;
  const int threads = work >= 256 ? 256 : ((work + 31) / 32) * 32;
  DispatchHalf(kv.type, [&](auto t) {
    using KV = decltype(t);
    WritePagedKvKernel<KV><<<static_cast<unsigned>(batch.num_rows), threads, 0, stream>>>(
        kv, batch.d_row_slot, d_k, ldk, d_v, ldv);
  });
}

size_t PagedAttentionWorkspaceBytes(const AttentionBatch& batch, int num_heads, int head_dim) {
  return attention::LayoutWorkspace(batch, num_heads, head_dim).bytes;
}

void PagedAttention(const PagedKvLayer& kv, const AttentionBatch& batch, const float* d_q,
                    int64_t ldq, int num_heads, void* d_out, Half out_type, int64_t ldo,
                    int sliding_window, void* d_workspace, size_t workspace_bytes, Stream stream) {
  if (batch.num_rows <= 0 || batch.num_seqs <= 0) return;
  std::string error = CheckArguments(kv, batch, num_heads);
  attention::WorkspaceLayout layout = attention::LayoutWorkspace(batch, num_heads, kv.head_dim);
  if (error.empty() && layout.bytes > 0 && (!d_workspace || workspace_bytes < layout.bytes)) {
    error = "workspace of " + std::to_string(workspace_bytes) + " bytes, " +
            std::to_string(layout.bytes) + " needed (PagedAttentionWorkspaceBytes)";
  }
  if (!error.empty()) {
    SetArgumentError("PagedAttention: " + error);
    return;
  }
  attention::LaunchDecode(kv, batch, d_q, ldq, num_heads, d_out, out_type, ldo, sliding_window,
                          layout, d_workspace, stream);
  if (batch.max_num_new > 1) {
    attention::LaunchPrefill(kv, batch, d_q, ldq, num_heads, d_out, out_type, ldo, sliding_window,
                             stream);
  }
}

}  // namespace lantern::tensor::cuda
