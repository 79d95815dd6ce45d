// Deliberately built with -mavx2: the object the baseline check must flag (its self-test).
#include <immintrin.h>

float SumEightWithAvx2(const float* p) {
  const __m256 v = _mm256_loadu_ps(p);
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_hadd_ps(s, s);
  return _mm_cvtss_f32(_mm_hadd_ps(s, s));
}
