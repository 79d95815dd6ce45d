// SwiGLU, GELU (tanh), ReLU and the fp32 -> 16-bit copy: element-wise, fp32 math, written
// in the next GEMM's input type. Grid-stride loops over rows × cols.
#include "tensor/cuda/cuda_ops.h"
#include "tensor/cuda/cuda_util.h"

namespace lantern::tensor::cuda {
namespace {

#define LANTERN_GRID_STRIDE(i, n)                                                        \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

template <typename T>
__global__ void SiluMulKernel(const float* __restrict__ gate_up, int64_t rows, int64_t ffn,
                              T* __restrict__ out) {
  LANTERN_GRID_STRIDE(i, rows * ffn) {
    const int64_t r = i / ffn, c = i % ffn;
    const float g = gate_up[r * 2 * ffn + c];
    const float u = gate_up[r * 2 * ffn + ffn + c];
    out[i] = FromFloat<T>(g / (1.0f + expf(-g)) * u);
  }
}

template <typename T>
__global__ void GeluTanhKernel(const float* __restrict__ x, int64_t n, T* __restrict__ out) {
  LANTERN_GRID_STRIDE(i, n) {
    const float v = x[i];
    const float inner = 0.7978845608028654f * (v + 0.044715f * v * v * v);  // sqrt(2/pi)
    out[i] = FromFloat<T>(0.5f * v * (1.0f + tanhf(inner)));
  }
}

template <typename T>
__global__ void ReluKernel(const float* __restrict__ x, int64_t n, T* __restrict__ out) {
  LANTERN_GRID_STRIDE(i, n) { out[i] = FromFloat<T>(fmaxf(x[i], 0.0f)); }
}

template <typename T>
__global__ void ToHalfKernel(const float* __restrict__ x, int64_t n, T* __restrict__ out) {
  LANTERN_GRID_STRIDE(i, n) { out[i] = FromFloat<T>(x[i]); }
}

#undef LANTERN_GRID_STRIDE

}  // namespace

void SiluMul(const float* d_gate_up, int64_t rows, int64_t ffn, void* d_out, Half out_type,
             Stream stream) {
  if (rows <= 0 || ffn <= 0) return;
  DispatchHalf(out_type, [&](auto t) {
    using T = decltype(t);
    SiluMulKernel<T><<<ElementwiseBlocks(rows * ffn), kElementwiseThreads, 0, stream>>>(
        d_gate_up, rows, ffn, static_cast<T*>(d_out));
  });
}

void GeluTanh(const float* d_x, int64_t rows, int64_t cols, void* d_out, Half out_type,
              Stream stream) {
  const int64_t n = rows * cols;
  if (n <= 0) return;
  DispatchHalf(out_type, [&](auto t) {
    using T = decltype(t);
    GeluTanhKernel<T>
        <<<ElementwiseBlocks(n), kElementwiseThreads, 0, stream>>>(d_x, n, static_cast<T*>(d_out));
  });
}

void Relu(const float* d_x, int64_t rows, int64_t cols, void* d_out, Half out_type, Stream stream) {
  const int64_t n = rows * cols;
  if (n <= 0) return;
  DispatchHalf(out_type, [&](auto t) {
    using T = decltype(t);
    ReluKernel<T>
        <<<ElementwiseBlocks(n), kElementwiseThreads, 0, stream>>>(d_x, n, static_cast<T*>(d_out));
  });
}

void ToHalf(const float* d_x, int64_t n, void* d_out, Half out_type, Stream stream) {
  if (n <= 0) return;
  DispatchHalf(out_type, [&](auto t) {
    using T = decltype(t);
    ToHalfKernel<T>
        <<<ElementwiseBlocks(n), kElementwiseThreads, 0, stream>>>(d_x, n, static_cast<T*>(d_out));
  });
}

}  // namespace lantern::tensor::cuda
