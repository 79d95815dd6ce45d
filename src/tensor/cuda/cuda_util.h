// Internal helpers of the CUDA backend's .cu files: error mapping, the 16-bit element
// types, launch arithmetic. Not part of the public contract (cuda_ops.h).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "base/status.h"
#include "tensor/cuda/cuda_ops.h"

namespace lantern::tensor::cuda {

inline Status CudaStatus(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return Status::Ok();
  cudaGetLastError();  // clears a non-sticky error so the next check starts clean
  return Internal(std::string(what) + ": " + cudaGetErrorName(err) + ": " +
                  cudaGetErrorString(err));
}

// An argument error of an asynchronous call (which returns void), reported by the calling
// thread's next LastLaunchError() as cudaGetLastError() reports launch errors.
void SetArgumentError(std::string message);

inline int64_t CeilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Loads and stores of the 16-bit types as fp32; T is __nv_bfloat16 or __half.
template <typename T>
__device__ __forceinline__ float ToFloat(T v);
template <>
__device__ __forceinline__ float ToFloat<__nv_bfloat16>(__nv_bfloat16 v) {
  return __bfloat162float(v);
}
template <>
__device__ __forceinline__ float ToFloat<__half>(__half v) {
  return __half2float(v);
}

template <typename T>
__device__ __forceinline__ T FromFloat(float v);
template <>
__device__ __forceinline__ __nv_bfloat16 FromFloat<__nv_bfloat16>(float v) {
  return __float2bfloat16_rn(v);
}
template <>
__device__ __forceinline__ __half FromFloat<__half>(float v) {
  return __float2half_rn(v);
}

// Calls f with a value of the 16-bit element type of `type` (for template dispatch).
template <typename F>
void DispatchHalf(Half type, F&& f) {
  if (type == Half::kBF16) {
    f(__nv_bfloat16{});
  } else {
    f(__half{});
  }
}

// Sums (or maxes) v over the thread block; every thread gets the result. blockDim.x must be
// a multiple of 32 and at most 1024. Uses 32 floats of shared memory and two barriers, so
// every thread of the block must call it.
__device__ __forceinline__ float WarpSum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}
__device__ __forceinline__ float WarpMax(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
  }
  return v;
}
template <bool kMax>
__device__ __forceinline__ float BlockReduce(float v) {
  __shared__ float partial[32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int warps = blockDim.x >> 5;
  v = kMax ? WarpMax(v) : WarpSum(v);
  __syncthreads();  // partial[] may still be read by a previous call
  if (lane == 0) partial[warp] = v;
  __syncthreads();
  float r = lane < warps ? partial[lane] : (kMax ? -INFINITY : 0.0f);
  return kMax ? WarpMax(r) : WarpSum(r);
}
__device__ __forceinline__ float BlockSum(float v) { return BlockReduce<false>(v); }
__device__ __forceinline__ float BlockMax(float v) { return BlockReduce<true>(v); }

// Grid size for an element-wise kernel of n elements, kThreads per block (capped: the
// kernels loop grid-stride).
constexpr int kElementwiseThreads = 256;
inline unsigned ElementwiseBlocks(int64_t n) {
  const int64_t blocks = CeilDiv(n, kElementwiseThreads);
  return static_cast<unsigned>(blocks < (1 << 20) ? (blocks > 0 ? blocks : 1) : (1 << 20));
}

}  // namespace lantern::tensor::cuda
