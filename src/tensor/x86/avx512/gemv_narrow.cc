// The AVX-512 variant of the skinny GEMMs over 16-bit weights: 16 lanes a vector, bfloat16
// widened by a zero-extend and a shift, IEEE half by vcvtph2ps; masked loads for the tails
// (see simd_gemv16.h; int8 is x86/avx512_vnni's, or AVX2's without VNNI). Decoding is bound
// by memory, so widening beats vdpbf16ps, which would also round the activations to bfloat16.
#include <immintrin.h>

#include "tensor/dispatch.h"
#include "tensor/simd_gemv16.h"
#include "tensor/x86/avx512/simd.h"

namespace lantern::tensor::avx512 {
namespace {

struct Vec {
  using V = __m512;
  static constexpr int kLanes = 16;
  // 32 zmm registers: M x NV accumulators plus NV weight vectors.
  static constexpr int GemvVectors(int m) { return m == 1 ? 8 : 4; }
  static V Zero() { return _mm512_setzero_ps(); }
  static V Set1(float x) { return _mm512_set1_ps(x); }
  static V Load(const float* p) { return _mm512_loadu_ps(p); }
  static void Store(float* p, V a) { _mm512_storeu_ps(p, a); }
  static V LoadPartial(const float* p, int n) { return _mm512_maskz_loadu_ps(FirstLanes(n), p); }
  static void StorePartial(float* p, V a, int n) { _mm512_mask_storeu_ps(p, FirstLanes(n), a); }
  static V MulAdd(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
};

__m256i LoadSixteen(const uint16_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}

__m256i LoadFirst(const uint16_t* p, int n) { return _mm256_maskz_loadu_epi16(FirstLanes(n), p); }

__m512 WidenBFloat16(__m256i h) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

struct BFloat16 {
  static __m512 Load(const uint16_t* p) { return WidenBFloat16(LoadSixteen(p)); }
  static __m512 LoadPartial(const uint16_t* p, int n) { return WidenBFloat16(LoadFirst(p, n)); }
};

struct Half {
  static __m512 Load(const uint16_t* p) { return _mm512_cvtph_ps(LoadSixteen(p)); }
  static __m512 LoadPartial(const uint16_t* p, int n) { return _mm512_cvtph_ps(LoadFirst(p, n)); }
};

}  // namespace

void InstallGemv16(Gemv16Kernels& table) { simd_kernels::FillGemv16<Vec, BFloat16, Half>(table); }

}  // namespace lantern::tensor::avx512
