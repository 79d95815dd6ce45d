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
// Where the CPU has AVX-512 BF16, bfloat16 weights are kept in pair tiles instead (below) and
// multiplied by their own panel kernel at every batch size.
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
// pair-interleaved in tiles: rows of K go two by two (so that vdpbf16ps takes two rows of K
// with one 64-byte load, a zero after an odd K), and a tile holds kBf16TilePairs such
// pair-rows of kBf16PanelColumns columns, 4 KiB contiguous: [pair][column][2]. The tiles of one
// band of pair-rows lie side by side, one per panel of 64 columns (the last panel padded with
// zeros), each band rotated by one panel from the band before, so that a panel's tiles are not
// a power of two apart (which would put them all in the same cache sets). A thread streams its
// panels tile by tile and runs groups of rows through each panel while it is in cache.
bool Bf16PairsPreferred();
inline constexpr int64_t kBf16PanelColumns = 64;
inline constexpr int64_t kBf16TilePairs = 16;
inline constexpr int64_t kBf16TileValues = kBf16TilePairs * kBf16PanelColumns * 2;
inline int64_t Bf16Panels(int64_t n) { return (n + kBf16PanelColumns - 1) / kBf16PanelColumns; }
// Offset of the tile holding pair-row `band` * kBf16TilePairs.. of panel `panel`.
inline int64_t Bf16TileOffset(int64_t band, int64_t panel, int64_t panels) {
  return (band * panels + (panel + band) % panels) * kBf16TileValues;
}
inline int64_t Bf16PairIndex(int64_t row, int64_t column, int64_t n) {
  const int64_t pair = row / 2;
  return Bf16TileOffset(pair / kBf16TilePairs, column / kBf16PanelColumns, Bf16Panels(n)) +
         (pair % kBf16TilePairs) * kBf16PanelColumns * 2 + (column % kBf16PanelColumns) * 2 +
         row % 2;
}
inline int64_t Bf16PairsSize(int64_t k, int64_t n) {
  const int64_t bands = ((k + 1) / 2 + kBf16TilePairs - 1) / kBf16TilePairs;
  return bands * Bf16Panels(n) * kBf16TileValues;
}

// C[M,N] = A[M,K] * B (+ C when accumulate), B bfloat16 in pair tiles as above with N columns
// (Bf16PairsSize(k, n) values). Only where Bf16PairsPreferred(). Each row of C is computed
// alike whatever M (the same sums in the same order), so a row's bits do not depend on the
// rows beside it.
void Gemm16Pairs(ThreadPool& pool, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                 const uint16_t* b, float* c, int64_t ldc, bool accumulate = false);

// Widens n values to fp32 / narrows n fp32 values (round to nearest even), on this thread.
void HalfToFloatRow(HalfFormat format, const uint16_t* in, float* out, int64_t n);
void FloatToHalfRow(HalfFormat format, const float* in, uint16_t* out, int64_t n);

}  // namespace lantern::tensor
