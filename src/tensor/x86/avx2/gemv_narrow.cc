// The AVX2 variant of the skinny GEMMs over narrow weights: bfloat16 widened by a zero-extend
// and a shift, IEEE half by F16C's vcvtph2ps, int8 by a sign-extend and a conversion (see
// simd_gemv16.h, simd_gemv8.h).
#include <immintrin.h>

#include "tensor/dispatch.h"
#include "tensor/simd_gemv16.h"
#include "tensor/simd_gemv8.h"
#include "tensor/x86/avx2/vec.h"

namespace lantern::tensor::avx2 {
namespace {

__m128i LoadEight(const uint16_t* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

// The first n values, the rest zero, without reading past them.
__m128i LoadFirst(const uint16_t* p, int n) {
  alignas(16) uint16_t lanes[8] = {};
  for (int i = 0; i < n; ++i) lanes[i] = p[i];
  return _mm_load_si128(reinterpret_cast<const __m128i*>(lanes));
}

__m256 WidenBFloat16(__m128i h) {
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

struct Int8 {
  static __m256 Load(const int8_t* p) {
    return _mm256_cvtepi32_ps(
        _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
  static __m256 LoadPartial(const int8_t* p, int n) {
    alignas(16) int8_t lanes[16] = {};
    for (int i = 0; i < n; ++i) lanes[i] = p[i];
    return Load(lanes);
  }
};

}  // namespace

void InstallGemv8(Gemv8Kernels& table) { table.columns = simd_kernels::Gemv8Columns<Vec, Int8>; }

void InstallGemv16(Gemv16Kernels& table) { simd_kernels::FillGemv16<Vec, BFloat16, Half>(table); }

}  // namespace lantern::tensor::avx2
