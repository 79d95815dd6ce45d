// Matrix multiplication through oneDNN's SGEMM (oneDNN picks its kernels for the CPU at run time).
//
// Why oneDNN and not OpenBLAS: measured on this CPU (bench/machine_limits), both reach
// ~300 GFLOP/s on large square products, but on the skinny shapes of decoding (M = 1..32
// rows against 768x3072 weights) oneDNN is 3-5x faster, and OpenBLAS needs
// OPENBLAS_CORETYPE=SKYLAKEX in the environment to use its AVX-512 kernels at all.
//
// Threading: the GEMM is split into column slices, one per thread of our compute pool,
// and each slice runs oneDNN single-threaded. So the pool's named threads are the only
// compute threads; oneDNN's OpenMP runtime never starts a team that could spin while
// our kernels run.
#pragma once

#include <cstdint>

#include "base/thread_pool.h"

namespace lantern::tensor {

// C[M,N] = A[M,K] * B[K,N] (+ C when accumulate), all row-major with leading
// dimensions lda, ldb, ldc (in elements).
void Gemm(ThreadPool& pool, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
          const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate = false);

// The same product on the calling thread only.
void GemmSingleThread(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                      int64_t ldb, float* c, int64_t ldc, bool accumulate);

}  // namespace lantern::tensor
