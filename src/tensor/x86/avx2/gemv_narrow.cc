// The AVX2 variant of the skinny GEMMs over narrow weights: 16-bit floats by half_vec.h's
// loaders, int8 by a sign-extend and a conversion (see simd_gemv16.h, simd_gemv8.h).
#include <immintrin.h>

#include "tensor/dispatch.h"
#include "tensor/simd_gemv16.h"
#include "tensor/simd_gemv8.h"
#include "tensor/x86/avx2/half_vec.h"
#include "tensor/x86/avx2/vec.h"

namespace lantern::tensor::avx2 {
namespace {

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
