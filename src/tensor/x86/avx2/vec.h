// The AVX2 variant's vector: eight floats in a ymm register (AVX2 + FMA).
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace lantern::tensor::avx2 {
namespace {

struct Vec {
  using V = __m256;
  static constexpr int kLanes = 8;
  // 16 ymm registers: M x NV accumulators plus NV weight vectors.
  static constexpr int GemvVectors(int m) { return m == 1 ? 8 : m == 2 ? 6 : 3; }

  static V Zero() { return _mm256_setzero_ps(); }
  static V Set1(float x) { return _mm256_set1_ps(x); }
  static V Load(const float* p) { return _mm256_loadu_ps(p); }
  static void Store(float* p, V a) { _mm256_storeu_ps(p, a); }
  // Lanes [0, n) set: a window into {-1 x 8, 0 x 8}.
  static __m256i FirstLanes(int n) {
    alignas(32) static const int32_t kMasks[16] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                   0,  0,  0,  0,  0,  0,  0,  0};
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kMasks + 8 - n));
  }
  // Masked lanes are neither read nor written, so a partial vector never faults.
  static V LoadPartial(const float* p, int n) { return _mm256_maskload_ps(p, FirstLanes(n)); }
  static void StorePartial(float* p, V a, int n) { _mm256_maskstore_ps(p, FirstLanes(n), a); }
  static V Add(V a, V b) { return _mm256_add_ps(a, b); }
  static V Sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V Mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V Div(V a, V b) { return _mm256_div_ps(a, b); }
  static V Max(V a, V b) { return _mm256_max_ps(a, b); }
  static V Min(V a, V b) { return _mm256_min_ps(a, b); }
  static V MulAdd(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V Round(V a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static V Pow2(V n) {
    const __m256i biased = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(biased, 23));
  }
  static float ReduceAdd(V a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float ReduceMax(V a) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
  }
};

}  // namespace
}  // namespace lantern::tensor::avx2
