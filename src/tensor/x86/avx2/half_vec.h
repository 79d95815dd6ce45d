// The AVX2 variant's loaders of 16-bit floats: bfloat16 widened by a zero-extend and a shift,
// IEEE half by F16C's vcvtph2ps. Shared by the 16-bit GEMV (simd_gemv16.h) and paged
// attention over a 16-bit KV cache (simd_attention.h).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace lantern::tensor::avx2 {
namespace {

inline __m128i LoadEight(const uint16_t* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

// The first n values, the rest zero, without reading past them.
inline __m128i LoadFirst(const uint16_t* p, int n) {
  alignas(16) uint16_t lanes[8] = {};
  for (int i = 0; i < n; ++i) lanes[i] = p[i];
  return _mm_load_si128(reinterpret_cast<const __m128i*>(lanes));
}

inline __m256 WidenBFloat16(__m128i h) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

struct BFloat16 {
  static __m256 Load(const uint16_t* p) { return WidenBFloat16(LoadEight(p)); }
  static __m256 LoadPartial(const uint16_t* p, int n) { return WidenBFloat16(LoadFirst(p, n)); }
};

struct Half {
  static __m256 Load(const uint16_t* p) { return _mm256_cvtph_ps(LoadEight(p)); }
  static __m256 LoadPartial(const uint16_t* p, int n) { return _mm256_cvtph_ps(LoadFirst(p, n)); }
};

}  // namespace
}  // namespace lantern::tensor::avx2
