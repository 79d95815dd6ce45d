// Skinny products (a few rows of activations against a weight matrix), the shape of
// decoding at small batch. They are bound by reading the weights once from memory, a case
// oneDNN's SGEMM handles at about half the bandwidth (bench_forward, docs/performance.md).
//
// The kernel streams the weights [k][n] block of kRows rows at a time: for each tile of 64
// output columns it keeps the m x 64 partial sums in registers over the rows of the block,
// so each of the block's rows is read as one sequential stream (what the hardware
// prefetchers follow), and the partial sums go through memory only once per block.
// Columns are split across the pool's threads; each thread accumulates in fp32.
#pragma once

#include <cstdint>

#include "base/thread_pool.h"

namespace lantern::tensor {

// Products with at most this many rows take the skinny kernel in Gemm. Measured with
// bench/gemv_bench on OPT-125m shapes: 1.05-1.3x oneDNN at m = 1..3, 0.9-1.0x at m = 4,
// about 0.65x from m = 6 on, where oneDNN's register blocking wins.
inline constexpr int64_t kSkinnyGemmMaxRows = 3;

// False when LANTERN_GEMV=0 is set in the environment (read once): Gemm then sends every
// product to oneDNN, the way to compare the two paths in one build.
bool SkinnyGemmEnabled();

// C[M,N] = A[M,K] * B[K,N] (+ C when accumulate), row-major with leading dimensions in
// elements; any m works (rows are taken four at a time), meant for m <= kSkinnyGemmMaxRows.
void SkinnyGemm(ThreadPool& pool, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate);

}  // namespace lantern::tensor
