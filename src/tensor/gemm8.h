// Products against int8 weights (--quantization int8), llama.cpp's Q8_0 scheme along the
// inputs: for each output column, every block of kInt8BlockRows consecutive inputs shares one
// fp32 scale, max|w| / 127, and holds round(w / scale). Each product quantizes its
// activations the same way (per row, per block of 32 inputs), so a block's 32 products are one
// exact integer dot product (vpdpbusd with VNNI, vpmaddubsw on AVX2, plain C++ elsewhere) and
// each block joins the fp32 sum once: c += float(sum qa * qw) * (sa * sw). The integer part is
// exact and the blocks are added in order, so every level and every batch size computes the
// same numbers: a row's result does not depend on the rows beside it.
#pragma once

#include <cstdint>
#include <vector>

#include "base/thread_pool.h"

namespace lantern::tensor {

inline constexpr int64_t kInt8BlockRows = 32;
// Columns per panel of the packed layout (see Int8Weights).
inline constexpr int64_t kInt8PanelColumns = 64;

// A quantized k x n matrix (k inputs, n outputs), packed so that a thread streams its columns
// in one sequential pass: panels of kInt8PanelColumns columns (the last padded with zeros),
// each all k rows in blocks of 32 (the last padded with zeros); a block is 8 groups of 4 rows,
// and a group holds, for each of the panel's 64 columns, its 4 consecutive inputs (one 32-bit
// lane of a vpdpbusd). scales[panel][block][64] in the same order.
struct Int8Weights {
  int64_t k = 0;
  int64_t n = 0;
  std::vector<int8_t> values;
  std::vector<float> scales;

  int64_t blocks() const { return (k + kInt8BlockRows - 1) / kInt8BlockRows; }
  int64_t panels() const { return (n + kInt8PanelColumns - 1) / kInt8PanelColumns; }
  uint64_t bytes() const { return values.size() + scales.size() * sizeof(float); }
  // The value at input `row`, output `column`, dequantized.
  float At(int64_t row, int64_t column) const;
  // out[j] = At(row, j) for j < n; out[i] = At(i, column) for i < k.
  void ReadRow(int64_t row, float* out) const;
  void ReadColumn(int64_t column, float* out) const;
};

// Quantizes w[k][n] (row-major, leading dimension ldw) per block and column: scale =
// max|w| / 127 and q = round(w / scale), ties away from zero (0 where the block is all zero).
Int8Weights QuantizeInt8(ThreadPool& pool, const float* w, int64_t k, int64_t n, int64_t ldw);

// The same filled one column at a time, straight from a checkpoint's [out][in] rows (a column's
// k inputs are contiguous there), so loading needs neither a transposed nor an fp32 copy of the
// whole matrix: ZeroInt8Weights(k, n), then QuantizeInt8Column(w, j, q) for each column j, from
// any threads as long as each column is filled once. The result equals QuantizeInt8's.
Int8Weights ZeroInt8Weights(int64_t k, int64_t n);
void QuantizeInt8Column(const float* w, int64_t column, Int8Weights& q);

// C[M,N] = A[M,K] * B (+ C when accumulate), A's rows quantized per block as above.
void Gemm8(ThreadPool& pool, int64_t m, const float* a, int64_t lda, const Int8Weights& b, float* c,
           int64_t ldc, bool accumulate = false);

// What Gemm8 multiplies instead of a[0..k): each block of 32 rounded to its int8 grid,
// round(a / s) * s with s = max|a| / 127 (for tests and references).
void QuantizeActivationsInt8(const float* a, int64_t k, float* out);

}  // namespace lantern::tensor
