// The int8 panel kernel on ymm (gemm8.h, dispatch.h's Gemv8Kernels), shared by the AVX2 and
// AVX-VNNI variants, which differ only in how four byte products join an int32 lane (`Dot`).
// The unsigned-by-signed byte products need unsigned activations: each activation's sign
// moves onto the weights (vpsignb) and its magnitude stays, |qa|, |qw| <= 127. Internal to
// those two files, like simd_kernels.h; in avx2's namespace for both (internal linkage, so the
// two instantiations, built with different flags, never meet).
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "tensor/gemm8.h"
#include "tensor/skinny_split.h"

namespace lantern::tensor::avx2 {
namespace {

constexpr int kVectors = static_cast<int>(kInt8PanelColumns / 8);  // per group of 4 rows
constexpr int kGroups = static_cast<int>(kInt8BlockRows / 4);

inline __m256i BroadcastFour(const int8_t* p) {
  int32_t four;
  std::memcpy(&four, p, sizeof(four));
  return _mm256_set1_epi32(four);
}

// Columns [8 * c0, 8 * (c0 + NV)) of the panel, all blocks: NV vectors at a time keep M x NV
// sums in the 16 ymm registers.
template <class Dot, int M, int NV>
void PanelColumns(int c0, int64_t blocks, const int8_t* qa, int64_t lda8, const float* sa,
                  const int8_t* values, const float* scales, float* tile) {
  for (int64_t b = 0; b < blocks; ++b) {
    __m256i sums[M][NV];
    for (int r = 0; r < M; ++r) {
      for (int v = 0; v < NV; ++v) sums[r][v] = _mm256_setzero_si256();
    }
    const int8_t* block = values + b * kInt8BlockRows * kInt8PanelColumns + c0 * 32;
    for (int g = 0; g < kGroups; ++g) {
      const int8_t* group = block + g * 4 * kInt8PanelColumns;
      __m256i signs[M], magnitudes[M];
      for (int r = 0; r < M; ++r) {
        signs[r] = BroadcastFour(qa + r * lda8 + b * kInt8BlockRows + g * 4);
        magnitudes[r] = _mm256_abs_epi8(signs[r]);
      }
      for (int v = 0; v < NV; ++v) {
        const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(group + v * 32));
        for (int r = 0; r < M; ++r) {
          sums[r][v] = Dot::Add(sums[r][v], magnitudes[r], _mm256_sign_epi8(w, signs[r]));
        }
      }
    }
    for (int v = 0; v < NV; ++v) {
      const __m256 scale = _mm256_loadu_ps(scales + b * kInt8PanelColumns + (c0 + v) * 8);
      for (int r = 0; r < M; ++r) {
        float* out = tile + r * kInt8PanelColumns + (c0 + v) * 8;
        const __m256 s = _mm256_mul_ps(scale, _mm256_set1_ps(sa[r * blocks + b]));
        _mm256_storeu_ps(out,
                         _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums[r][v]), s, _mm256_loadu_ps(out)));
      }
    }
  }
}

template <class Dot, int M, int NV>
void Panel(int64_t blocks, const int8_t* qa, int64_t lda8, const float* sa, const int8_t* values,
           const float* scales, float* tile) {
  for (int c0 = 0; c0 < kVectors; c0 += NV) {
    PanelColumns<Dot, M, NV>(c0, blocks, qa, lda8, sa, values, scales, tile);
  }
}

template <class Dot>
void PanelRows(int m, int64_t blocks, const int8_t* qa, int64_t lda8, const float* sa,
               const int8_t* values, const float* scales, float* tile) {
  // Vectors of 8 columns per pass: M x NV sums, NV <= 8, fit the 16 ymm registers.
  WithRowCount(m, [&]<int M>() {
    Panel<Dot, M, M == 1 ? 8 : M == 2 ? 4 : 2>(blocks, qa, lda8, sa, values, scales, tile);
  });
}

}  // namespace
}  // namespace lantern::tensor::avx2
