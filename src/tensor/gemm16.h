// Products against 16-bit weights (bfloat16 or IEEE half, as checkpoints store them), for
// models served in a 16-bit --dtype: the weights stay 16-bit in memory, activations and
// sums are fp32. Against bfloat16 weights the inputs are rounded to bfloat16 first (as the
// bf16 matmuls of vLLM and llama.cpp do), whatever the shape and the kernel level.
//
// Few rows (decoding): the skinny kernel widens the weights in registers, reading half the
// bytes of fp32 weights. Many rows (prefill): bfloat16 on a CPU with AVX-512 BF16 goes to
// oneDNN's bf16 matmul (vdpbf16ps, twice SGEMM's rate, gemm_bf16.h); otherwise each thread
// widens a panel of its columns to fp32 and hands it to oneDNN's SGEMM (widening costs one
// pass over the panel, the product m passes, so from a few rows on it runs at fp32 speed).
#pragma once

#include <cstdint>

#include "base/thread_pool.h"
#include "tensor/half.h"

namespace lantern::tensor {

// C[M,N] = A[M,K] * B[K,N] (+ C when accumulate), row-major with leading dimensions in
// elements; B holds `format` values.
void Gemm16(ThreadPool& pool, HalfFormat format, int64_t m, int64_t n, int64_t k, const float* a,
            int64_t lda, const uint16_t* b, int64_t ldb, float* c, int64_t ldc,
            bool accumulate = false);

// Where the CPU has AVX-512 BF16 (and the AVX-512 level runs), bfloat16 weights are best kept
// pair-interleaved: B[k][n] at (k / 2) * 2n + 2j + k % 2, i.e. [ceil(K/2)][N][2] with a zero
// after an odd K, so that vdpbf16ps takes two rows of K with one 64-byte load. Decoding
// (bound by streaming the weights) runs measurably faster than over [K][N]
// (docs/performance.md); prefill unpacks panels of columns for oneDNN, which repacks [K][N]
// the same way itself.
bool Bf16PairsPreferred();
inline int64_t Bf16PairIndex(int64_t row, int64_t column, int64_t n) {
  return (row / 2) * 2 * n + 2 * column + row % 2;
}
inline int64_t Bf16PairsSize(int64_t k, int64_t n) { return (k + 1) / 2 * 2 * n; }

// C[M,N] = A[M,K] * B (+ C when accumulate), B bfloat16 pair-interleaved with N columns
// (Bf16PairsSize(k, n) values). Only where Bf16PairsPreferred().
void Gemm16Pairs(ThreadPool& pool, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                 const uint16_t* b, float* c, int64_t ldc, bool accumulate = false);

// Widens n values to fp32 / narrows n fp32 values (round to nearest even), on this thread.
void HalfToFloatRow(HalfFormat format, const uint16_t* in, float* out, int64_t n);
void FloatToHalfRow(HalfFormat format, const float* in, uint16_t* out, int64_t n);

}  // namespace lantern::tensor
