// Products with bfloat16 inputs on both sides (internal to tensor/): oneDNN's bf16 matmul,
// which runs on the AVX-512 BF16 dot product (vdpbf16ps) at about twice SGEMM's rate on
// CPUs that have it (bench/gemv_bench, docs/performance.md). Gemm16 uses it for the many-row
// products of bfloat16 models (prefill).
#pragma once

#include <cstdint>

namespace lantern::tensor {

// Whether this process's kernel level runs bf16 products natively (AVX-512 level on a CPU
// with AVX-512 BF16, and oneDNN offers a non-reference kernel for them).
bool NativeBf16GemmAvailable();

// C[M,N] = A[M,K] * B[K,N] (+ C when accumulate) on the calling thread, A and B bfloat16
// bits, C fp32, row-major with leading dimensions in elements. Only when
// NativeBf16GemmAvailable().
void Bf16GemmSingleThread(int64_t m, int64_t n, int64_t k, const uint16_t* a, int64_t lda,
                          const uint16_t* b, int64_t ldb, float* c, int64_t ldc, bool accumulate);

}  // namespace lantern::tensor
