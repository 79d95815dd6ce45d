// Products against int8 weights quantized in blocks (--quantization int8): for each output
// column, every block of kInt8BlockRows consecutive input rows shares one fp32 scale, as
// llama.cpp's Q8_0 does along the same axis. Weights are read as int8 (a quarter of the
// bytes of fp32 ones) and widened to fp32 in registers; activations and sums stay fp32.
// Many rows (prefill) dequantize panels for oneDNN's SGEMM, as Gemm16 does.
#pragma once

#include <cstdint>

#include "base/thread_pool.h"

namespace lantern::tensor {

inline constexpr int64_t kInt8BlockRows = 32;

// Rows of scales for k weight rows: one per block, ceil(k / kInt8BlockRows).
inline int64_t Int8ScaleRows(int64_t k) { return (k + kInt8BlockRows - 1) / kInt8BlockRows; }

// Quantizes w[k][n] (row-major, leading dimension n) to q[k][n] and scales[Int8ScaleRows(k)][n]:
// per block and column, scale = max|w| / 127 and q = round(w / scale) (ties away from zero).
void QuantizeInt8(ThreadPool& pool, const float* w, int64_t k, int64_t n, int8_t* q, float* scales);

// C[M,N] = A[M,K] * dequant(B)[K,N] (+ C when accumulate); B and scales as QuantizeInt8 writes
// them, with leading dimension ldb for both.
void Gemm8(ThreadPool& pool, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
           const int8_t* b, int64_t ldb, const float* scales, float* c, int64_t ldc,
           bool accumulate = false);

// out[i] = dequant(B)[row][i] for i < n, or out[i] = dequant(B)[i][column] for i < k.
void DequantizeInt8Row(const int8_t* b, int64_t ldb, const float* scales, int64_t row, int64_t n,
                       float* out);
void DequantizeInt8Column(const int8_t* b, int64_t ldb, const float* scales, int64_t column,
                          int64_t k, float* out);

}  // namespace lantern::tensor
