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

}  // namespace lantern::tensor::cuda
