// Prefill attention: one thread block per (query tile of kQTile rows, head, sequence). The
// block stages the tile's queries (fp32) and, chunk by chunk, kKTile positions of K and V
// from the paged cache in shared memory; each warp owns kRowsPerWarp query rows, a lane one
// key of the chunk for the scores and head_dim / 32 output elements for P·V, with an online
// softmax in fp32. Chunks are aligned to absolute positions, so a row's arithmetic does not
// depend on how its prompt was chunked or tiled.
#include "tensor/cuda/cuda_util.h"
#include "tensor/cuda/paged_attention.h"

namespace lantern::tensor::cuda::attention {
namespace {

constexpr int kWarps = 4;
constexpr int kThreads = kWarps * 32;
constexpr int kRowsPerWarp = 4;
constexpr int kQTile = kWarps * kRowsPerWarp;
constexpr int kKTile = 32;  // one key per lane
constexpr int kDPerLane = kMaxHeadDim / 32;

template <typename KV, typename Out>
__global__ void __launch_bounds__(kThreads)
    PrefillKernel(PagedKvLayer kv, AttentionBatch batch, const float* __restrict__ q, int64_t ldq,
                  int num_heads, Out* __restrict__ out, int64_t ldo, int window) {
  const int tile = blockIdx.x, h = blockIdx.y, s = blockIdx.z;
  const int num_new = batch.d_seq_num_new[s];
  if (num_new <= 1 || tile * kQTile >= num_new) return;  // one new token: the decode kernel's
  const int rows_here = num_new - tile * kQTile < kQTile ? num_new - tile * kQTile : kQTile;
  const int64_t first_row = batch.d_seq_first_row[s] + static_cast<int64_t>(tile) * kQTile;
  const int64_t first_pos = batch.d_seq_start_pos[s] + static_cast<int64_t>(tile) * kQTile;
  const int64_t last_pos = first_pos + rows_here - 1;
  const int64_t lo = window > 0 && first_pos - window + 1 > 0 ? first_pos - window + 1 : 0;

  const int hd = kv.head_dim, bs = kv.block_size;
  const int kv_head = h / (num_heads / kv.num_kv_heads);
  const int32_t* table = batch.d_block_tables + static_cast<int64_t>(s) * batch.max_blocks_per_seq;
  const int64_t table_len = batch.max_blocks_per_seq;
  const KV* keys = static_cast<const KV*>(kv.keys) + static_cast<int64_t>(kv_head) * hd * bs;
  const KV* values = static_cast<const KV*>(kv.values) + static_cast<int64_t>(kv_head) * bs * hd;

  __shared__ float q_s[kQTile][kMaxHeadDim];
  __shared__ KV k_s[kMaxHeadDim][kKTile];  // [d][key]: lanes read consecutive keys
  __shared__ KV v_s[kKTile][kMaxHeadDim];  // [key][d]: lanes read consecutive d

  const int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  for (int i = tid; i < kQTile * hd; i += kThreads) {
    const int r = i / hd, d = i % hd;
    q_s[r][d] = r < rows_here ? q[(first_row + r) * ldq + static_cast<int64_t>(h) * hd + d] : 0.0f;
  }

  int64_t pos[kRowsPerWarp];  // -1: a row past the sequence's new tokens
  float m[kRowsPerWarp], l[kRowsPerWarp], acc[kRowsPerWarp][kDPerLane];
#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r) {
    const int row = warp * kRowsPerWarp + r;
    pos[r] = row < rows_here ? first_pos + row : -1;
    m[r] = -INFINITY;
    l[r] = 0;
#pragma unroll
    for (int i = 0; i < kDPerLane; ++i) acc[r][i] = 0;
  }

  for (int64_t c0 = lo / kKTile * kKTile; c0 <= last_pos; c0 += kKTile) {
    __syncthreads();  // the previous chunk's K/V (and, first time, q_s) are done with
    for (int i = tid; i < hd * kKTile; i += kThreads) {
      const int d = i / kKTile, j = i % kKTile;
      const int64_t t = c0 + j;
      KV value = FromFloat<KV>(0.0f);
      if (t <= last_pos && t / bs < table_len) {
        value = keys[table[t / bs] * kv.block_stride + static_cast<int64_t>(d) * bs + t % bs];
      }
      k_s[d][j] = value;
    }
    for (int i = tid; i < kKTile * hd; i += kThreads) {
      const int j = i / hd, d = i % hd;
      const int64_t t = c0 + j;
      KV value = FromFloat<KV>(0.0f);
      if (t <= last_pos && t / bs < table_len) {
        value = values[table[t / bs] * kv.block_stride + (t % bs) * hd + d];
      }
      v_s[j][d] = value;
    }
    __syncthreads();

    // Scores of this lane's key against the warp's rows.
    const int64_t t = c0 + lane;
    float dot[kRowsPerWarp] = {};
    for (int d = 0; d < hd; ++d) {
      const float k = ToFloat<KV>(k_s[d][lane]);
#pragma unroll
      for (int r = 0; r < kRowsPerWarp; ++r) dot[r] += q_s[warp * kRowsPerWarp + r][d] * k;
    }
    float p[kRowsPerWarp];
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) {
      const bool valid =
          pos[r] >= 0 && t <= pos[r] && (window <= 0 || t > pos[r] - window) && t / bs < table_len;
      const float score = valid ? dot[r] : -INFINITY;
      const float new_m = fmaxf(m[r], WarpMax(score));
      float scale = 1.0f;
      p[r] = 0.0f;
      if (new_m != -INFINITY) {
        scale = expf(m[r] - new_m);
        p[r] = valid ? expf(score - new_m) : 0.0f;
      }
      l[r] = l[r] * scale + WarpSum(p[r]);
      m[r] = new_m;
#pragma unroll
      for (int i = 0; i < kDPerLane; ++i) acc[r][i] *= scale;
    }

    // P·V: key j's probabilities come from lane j.
    for (int j = 0; j < kKTile; ++j) {
      float pj[kRowsPerWarp];
#pragma unroll
      for (int r = 0; r < kRowsPerWarp; ++r) pj[r] = __shfl_sync(0xffffffffu, p[r], j);
#pragma unroll
      for (int i = 0; i < kDPerLane; ++i) {
        const int d = lane + 32 * i;
        if (d >= hd) break;
        const float v = ToFloat<KV>(v_s[j][d]);
#pragma unroll
        for (int r = 0; r < kRowsPerWarp; ++r) acc[r][i] += pj[r] * v;
      }
    }
  }

#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r) {
    if (pos[r] < 0) continue;
    const float inv = l[r] > 0 ? 1.0f / l[r] : 0.0f;
    Out* o = out + (first_row + warp * kRowsPerWarp + r) * ldo + static_cast<int64_t>(h) * hd;
#pragma unroll
    for (int i = 0; i < kDPerLane; ++i) {
      const int d = lane + 32 * i;
      if (d < hd) o[d] = FromFloat<Out>(acc[r][i] * inv);
    }
  }
}

}  // namespace

void LaunchPrefill(const PagedKvLayer& kv, const AttentionBatch& batch, const float* d_q,
                   int64_t ldq, int num_heads, void* d_out, Half out_type, int64_t ldo,
                   int sliding_window, Stream stream) {
  const dim3 grid(static_cast<unsigned>(CeilDiv(batch.max_num_new, kQTile)),
                  static_cast<unsigned>(num_heads), static_cast<unsigned>(batch.num_seqs));
  DispatchHalf(kv.type, [&](auto kv_type) {
    using KV = decltype(kv_type);
    DispatchHalf(out_type, [&](auto out_element) {
      using Out = decltype(out_element);
      PrefillKernel<KV, Out><<<grid, kThreads, 0, stream>>>(
          kv, batch, d_q, ldq, num_heads, static_cast<Out*>(d_out), ldo, sliding_window);
    });
  });
}

}  // namespace lantern::tensor::cuda::attention
