// RMSNorm, LayerNorm, Qwen3's per-head RMSNorm and the bias add: one thread block per row
// (or per head of a row), fp32 sums, written in the next GEMM's 16-bit type.
#include "tensor/cuda/cuda_ops.h"
#include "tensor/cuda/cuda_util.h"

namespace lantern::tensor::cuda {
namespace {

constexpr int kRowThreads = 256;

template <typename T>
__global__ void RmsNormKernel(const float* __restrict__ x, int64_t dim,
                              const float* __restrict__ weight, float eps, T* __restrict__ out) {
  const float* row = x + blockIdx.x * dim;
  float sum = 0;
  for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) sum += row[c] * row[c];
  const float inv = rsqrtf(BlockSum(sum) / static_cast<float>(dim) + eps);
  T* o = out + blockIdx.x * dim;
  for (int64_t c = threadIdx.x; c < dim; c += blockDim.x)
    o[c] = FromFloat<T>(row[c] * inv * weight[c]);
}

template <typename T>
__global__ void LayerNormKernel(const float* __restrict__ x, int64_t dim,
                                const float* __restrict__ weight, const float* __restrict__ bias,
                                float eps, T* __restrict__ out) {
  const float* row = x + blockIdx.x * dim;
  float sum = 0;
  for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) sum += row[c];
  const float mean = BlockSum(sum) / static_cast<float>(dim);
  float squares = 0;  // second pass over the row: no cancellation of E[x^2] - mean^2
  for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) {
    const float d = row[c] - mean;
    squares += d * d;
  }
  const float inv = rsqrtf(BlockSum(squares) / static_cast<float>(dim) + eps);
  T* o = out + blockIdx.x * dim;
  for (int64_t c = threadIdx.x; c < dim; c += blockDim.x) {
    float v = (row[c] - mean) * inv;
    if (weight) v *= weight[c];
    if (bias) v += bias[c];
    o[c] = FromFloat<T>(v);
  }
}

// Block (row, head): head_dim elements at x + row * ld + head * head_dim.
__global__ void GroupRmsNormKernel(float* __restrict__ x, int64_t ld, int head_dim,
                                   const float* __restrict__ weight, float eps) {
  float* v = x + blockIdx.x * ld + static_cast<int64_t>(blockIdx.y) * head_dim;
  float sum = 0;
  for (int c = threadIdx.x; c < head_dim; c += blockDim.x) sum += v[c] * v[c];
  const float inv = rsqrtf(BlockSum(sum) / static_cast<float>(head_dim) + eps);
  for (int c = threadIdx.x; c < head_dim; c += blockDim.x) v[c] = v[c] * inv * weight[c];
}

__global__ void AddBiasKernel(float* __restrict__ y, int64_t rows, int64_t cols, int64_t ld,
                              const float* __restrict__ bias) {
  const int64_t n = rows * cols;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = i / cols, c = i % cols;
    y[r * ld + c] += bias[c];
  }
}

}  // namespace

void RmsNorm(const float* d_x, int64_t rows, int64_t dim, const float* d_weight, float eps,
             void* d_out, Half out_type, Stream stream) {
  if (rows <= 0 || dim <= 0) return;
  DispatchHalf(out_type, [&](auto t) {
    using T = decltype(t);
    RmsNormKernel<T><<<static_cast<unsigned>(rows), kRowThreads, 0, stream>>>(
        d_x, dim, d_weight, eps, static_cast<T*>(d_out));
  });
}

void LayerNorm(const float* d_x, int64_t rows, int64_t dim, const float* d_weight,
               const float* d_bias, float eps, void* d_out, Half out_type, Stream stream) {
  if (rows <= 0 || dim <= 0) return;
  DispatchHalf(out_type, [&](auto t) {
    using T = decltype(t);
    LayerNormKernel<T><<<static_cast<unsigned>(rows), kRowThreads, 0, stream>>>(
        d_x, dim, d_weight, d_bias, eps, static_cast<T*>(d_out));
  });
}

void GroupRmsNormInPlace(float* d_x, int64_t rows, int64_t ld, int heads, int head_dim,
                         const float* d_weight, float eps, Stream stream) {
  if (rows <= 0 || heads <= 0 || head_dim <= 0) return;
  const dim3 grid(static_cast<unsigned>(rows), static_cast<unsigned>(heads));
  const int threads = head_dim >= 128 ? 128 : (head_dim >= 64 ? 64 : 32);
  GroupRmsNormKernel<<<grid, threads, 0, stream>>>(d_x, ld, head_dim, d_weight, eps);
}

void AddBias(float* d_y, int64_t rows, int64_t cols, int64_t ld, const float* d_bias,
             Stream stream) {
  if (rows <= 0 || cols <= 0 || !d_bias) return;
  AddBiasKernel<<<ElementwiseBlocks(rows * cols), kElementwiseThreads, 0, stream>>>(d_y, rows, cols,
                                                                                    ld, d_bias);
}

}  // namespace lantern::tensor::cuda
