// Embedding and logits row gathers, and the greedy argmax over the vocabulary.
#include <cfloat>

#include "tensor/cuda/cuda_ops.h"
#include "tensor/cuda/cuda_util.h"

namespace lantern::tensor::cuda {
namespace {

// Block per output row. A negative id (padding) gives a zero row.
template <typename T>
__global__ void EmbeddingKernel(const T* __restrict__ table, int64_t dim,
                                const int32_t* __restrict__ ids, float* __restrict__ out) {
  const int32_t id = ids[blockIdx.x];
  float* o = out + blockIdx.x * dim;
  for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) {
    o[c] = id >= 0 ? ToFloat<T>(table[id * dim + c]) : 0.0f;
  }
}

__global__ void GatherRowsKernel(const float* __restrict__ x, int64_t dim,
                                 const int32_t* __restrict__ row_ids, float* __restrict__ out) {
  const int64_t src = row_ids[blockIdx.x];
  float* o = out + blockIdx.x * dim;
  for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) o[c] = src >= 0 ? x[src * dim + c] : 0;
}

// (value, index) with the larger value winning and the lower index on ties; NaN never wins
// (as the CPU sampler's `>` comparison), so a row of NaN gives index 0.
struct Best {
  float value;
  int32_t index;
};
__device__ __forceinline__ Best Better(Best a, Best b) {
  if (b.value > a.value || (b.value == a.value && b.index < a.index)) return b;
  return a;
}

constexpr int kArgmaxThreads = 256;

__global__ void ArgmaxKernel(const float* __restrict__ logits, int64_t vocab,
                             int32_t* __restrict__ out) {
  const float* row = logits + blockIdx.x * vocab;
  Best best{-INFINITY, 0};
  bool any = false;
  for (int64_t c = threadIdx.x; c < vocab; c += blockDim.x) {
    const Best candidate{row[c], static_cast<int32_t>(c)};
    if (!any && !isnan(candidate.value)) {
      best = candidate;
      any = true;
    } else {
      best = Better(best, candidate);
    }
  }
  if (!any) best = {-INFINITY, INT32_MAX};
  for (int offset = 16; offset > 0; offset >>= 1) {
    const Best other{__shfl_xor_sync(0xffffffffu, best.value, offset),
                     __shfl_xor_sync(0xffffffffu, best.index, offset)};
    best = Better(best, other);
  }
  __shared__ Best warp_best[kArgmaxThreads / 32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) warp_best[warp] = best;
  __syncthreads();
  if (threadIdx.x == 0) {
    Best b = warp_best[0];
    for (int w = 1; w < kArgmaxThreads / 32; ++w) b = Better(b, warp_best[w]);
    out[blockIdx.x] = b.index == INT32_MAX ? 0 : b.index;
  }
}

}  // namespace

void EmbeddingGather(const void* d_table, Half table_type, int64_t dim, const int32_t* d_ids,
                     int64_t rows, float* d_out, Stream stream) {
  if (rows <= 0 || dim <= 0) return;
  DispatchHalf(table_type, [&](auto t) {
    using T = decltype(t);
    EmbeddingKernel<T><<<static_cast<unsigned>(rows), 256, 0, stream>>>(
        static_cast<const T*>(d_table), dim, d_ids, d_out);
  });
}

void GatherRows(const float* d_x, int64_t dim, const int32_t* d_row_ids, int64_t n, float* d_out,
                Stream stream) {
  if (n <= 0 || dim <= 0) return;
  GatherRowsKernel<<<static_cast<unsigned>(n), 256, 0, stream>>>(d_x, dim, d_row_ids, d_out);
}

void ArgmaxRows(const float* d_logits, int64_t rows, int64_t vocab, int32_t* d_out, Stream stream) {
  if (rows <= 0 || vocab <= 0) return;
  ArgmaxKernel<<<static_cast<unsigned>(rows), kArgmaxThreads, 0, stream>>>(d_logits, vocab, d_out);
}

}  // namespace lantern::tensor::cuda
