// Decode attention: one query row per sequence, one thread block per (head, sequence,
// partition of the context). A block walks its partition in chunks of kThreads positions
// (one score per thread, then every thread owns head_dim / kThreads output elements) with an
// online softmax in fp32; a row with one partition writes its output directly, longer rows
// write partial sums that CombineKernel merges (split-K, as vLLM's paged attention v2).
#include "tensor/cuda/cuda_util.h"
#include "tensor/cuda/paged_attention.h"

namespace lantern::tensor::cuda::attention {
namespace {

constexpr int kThreads = 128;
constexpr int kAccPerThread = kMaxHeadDim / kThreads;

// The positions a decode row attends: [lo, pos], split into `partitions`.
struct RowSpan {
  int64_t lo = 0, pos = 0;
  int partitions = 1;
};
__device__ __forceinline__ RowSpan SpanOf(int64_t pos, int window, int max_partitions) {
  RowSpan span;
  span.pos = pos;
  span.lo = window > 0 && pos - window + 1 > 0 ? pos - window + 1 : 0;
  span.partitions = NumPartitions(pos - span.lo + 1);
  // Only if max_context understated the batch; the partitions still cover the span.
  if (span.partitions > max_partitions) span.partitions = max_partitions;
  return span;
}

template <typename KV, typename Out>
__global__ void __launch_bounds__(kThreads)
    DecodeKernel(PagedKvLayer kv, AttentionBatch batch, const float* __restrict__ q, int64_t ldq,
                 int num_heads, Out* __restrict__ out, int64_t ldo, int window,
                 float* __restrict__ ws_acc, float* __restrict__ ws_max, float* __restrict__ ws_sum,
                 int max_partitions) {
  const int h = blockIdx.x, s = blockIdx.y, part = blockIdx.z, tid = threadIdx.x;
  if (batch.d_seq_num_new[s] != 1) return;
  const int64_t row = batch.d_seq_first_row[s];
  const RowSpan span = SpanOf(batch.d_seq_start_pos[s], window, max_partitions);
  if (part >= span.partitions) return;
  const int64_t size = PartitionSize(span.pos - span.lo + 1, span.partitions);
  const int64_t begin = span.lo + part * size;
  const int64_t end = begin + size < span.pos + 1 ? begin + size : span.pos + 1;

  const int hd = kv.head_dim, bs = kv.block_size;
  const int kv_head = h / (num_heads / kv.num_kv_heads);
  const int32_t* table = batch.d_block_tables + static_cast<int64_t>(s) * batch.max_blocks_per_seq;
  const int64_t table_len = batch.max_blocks_per_seq;
  const KV* keys = static_cast<const KV*>(kv.keys) + static_cast<int64_t>(kv_head) * hd * bs;
  const KV* values = static_cast<const KV*>(kv.values) + static_cast<int64_t>(kv_head) * bs * hd;

  __shared__ float q_s[kMaxHeadDim];
  __shared__ float p_s[kThreads];
  for (int d = tid; d < hd; d += kThreads) q_s[d] = q[row * ldq + static_cast<int64_t>(h) * hd + d];
  __syncthreads();

  float m = -INFINITY, l = 0;
  float acc[kAccPerThread];
#pragma unroll
  for (int i = 0; i < kAccPerThread; ++i) acc[i] = 0;

  for (int64_t c0 = begin; c0 < end; c0 += kThreads) {
    const int64_t t = c0 + tid;
    float score = -INFINITY;
    if (t < end && t / bs < table_len) {
      const KV* k = keys + table[t / bs] * kv.block_stride + t % bs;
      float dot = 0;
      for (int d = 0; d < hd; ++d) dot += q_s[d] * ToFloat<KV>(k[static_cast<int64_t>(d) * bs]);
      score = dot;
    }
    const float new_m = fmaxf(m, BlockMax(score));
    if (new_m == -INFINITY) continue;  // the same for every thread: nothing valid yet
    const float scale = expf(m - new_m);
    const float p = score == -INFINITY ? 0.0f : expf(score - new_m);
    l = l * scale + BlockSum(p);
    p_s[tid] = p;
    __syncthreads();
    const int n = end - c0 < kThreads ? static_cast<int>(end - c0) : kThreads;
#pragma unroll
    for (int i = 0; i < kAccPerThread; ++i) {
      const int d = tid + i * kThreads;
      if (d >= hd) continue;
      float a = acc[i] * scale;
      for (int j = 0; j < n; ++j) {
        const float pj = p_s[j];
        if (pj == 0.0f) continue;  // masked (or underflowed): also never reads past the table
        const int64_t tj = c0 + j;
        const KV* v = values + table[tj / bs] * kv.block_stride + (tj % bs) * hd;
        a += pj * ToFloat<KV>(v[d]);
      }
      acc[i] = a;
    }
    m = new_m;
    // The next chunk's BlockMax starts with a barrier: p_s is not overwritten while read.
  }

  if (span.partitions == 1) {
    const float inv = l > 0 ? 1.0f / l : 0.0f;
    Out* o = out + row * ldo + static_cast<int64_t>(h) * hd;
#pragma unroll
    for (int i = 0; i < kAccPerThread; ++i) {
      const int d = tid + i * kThreads;
      if (d < hd) o[d] = FromFloat<Out>(acc[i] * inv);
    }
    return;
  }
  const int64_t index = (static_cast<int64_t>(s) * num_heads + h) * max_partitions + part;
#pragma unroll
  for (int i = 0; i < kAccPerThread; ++i) {
    const int d = tid + i * kThreads;
    if (d < hd) ws_acc[index * hd + d] = acc[i];
  }
  if (tid == 0) {
    ws_max[index] = m;
    ws_sum[index] = l;
  }
}

// Block per (head, sequence): merges the partitions of a split row.
template <typename Out>
__global__ void __launch_bounds__(kThreads)
    CombineKernel(AttentionBatch batch, int num_heads, int head_dim, Out* __restrict__ out,
                  int64_t ldo, int window, const float* __restrict__ ws_acc,
                  const float* __restrict__ ws_max, const float* __restrict__ ws_sum,
                  int max_partitions) {
  const int h = blockIdx.x, s = blockIdx.y;
  if (batch.d_seq_num_new[s] != 1) return;
  const RowSpan span = SpanOf(batch.d_seq_start_pos[s], window, max_partitions);
  if (span.partitions == 1) return;  // written by DecodeKernel
  const int64_t first = (static_cast<int64_t>(s) * num_heads + h) * max_partitions;
  float m = -INFINITY;
  for (int p = 0; p < span.partitions; ++p) {
    if (ws_sum[first + p] > 0) m = fmaxf(m, ws_max[first + p]);
  }
  float l = 0;
  for (int p = 0; p < span.partitions; ++p) {
    if (ws_sum[first + p] > 0) l += ws_sum[first + p] * expf(ws_max[first + p] - m);
  }
  const float inv = l > 0 ? 1.0f / l : 0.0f;
  const int64_t row = batch.d_seq_first_row[s];
  Out* o = out + row * ldo + static_cast<int64_t>(h) * head_dim;
  for (int d = threadIdx.x; d < head_dim; d += blockDim.x) {
    float sum = 0;
    for (int p = 0; p < span.partitions; ++p) {
      if (ws_sum[first + p] > 0) {
        sum += ws_acc[(first + p) * head_dim + d] * expf(ws_max[first + p] - m);
      }
    }
    o[d] = FromFloat<Out>(sum * inv);
  }
}

}  // namespace

void LaunchDecode(const PagedKvLayer& kv, const AttentionBatch& batch, const float* d_q,
                  int64_t ldq, int num_heads, void* d_out, Half out_type, int64_t ldo,
                  int sliding_window, const WorkspaceLayout& layout, void* d_workspace,
                  Stream stream) {
  char* ws = static_cast<char*>(d_workspace);
  float* ws_acc = layout.bytes ? reinterpret_cast<float*>(ws + layout.acc_offset) : nullptr;
  float* ws_max = layout.bytes ? reinterpret_cast<float*>(ws + layout.max_offset) : nullptr;
  float* ws_sum = layout.bytes ? reinterpret_cast<float*>(ws + layout.sum_offset) : nullptr;
  const int max_partitions = layout.bytes ? layout.max_partitions : 1;
  const dim3 grid(static_cast<unsigned>(num_heads), static_cast<unsigned>(batch.num_seqs),
                  static_cast<unsigned>(max_partitions));
  DispatchHalf(kv.type, [&](auto kv_type) {
    using KV = decltype(kv_type);
    DispatchHalf(out_type, [&](auto out_element) {
      using Out = decltype(out_element);
      DecodeKernel<KV, Out><<<grid, kThreads, 0, stream>>>(
          kv, batch, d_q, ldq, num_heads, static_cast<Out*>(d_out), ldo, sliding_window, ws_acc,
          ws_max, ws_sum, max_partitions);
      if (max_partitions > 1) {
        const dim3 combine_grid(static_cast<unsigned>(num_heads),
                                static_cast<unsigned>(batch.num_seqs));
        CombineKernel<Out><<<combine_grid, kThreads, 0, stream>>>(
            batch, num_heads, kv.head_dim, static_cast<Out*>(d_out), ldo, sliding_window, ws_acc,
            ws_max, ws_sum, max_partitions);
      }
    });
  });
}

}  // namespace lantern::tensor::cuda::attention
