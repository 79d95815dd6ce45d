#include "tensor/rope.h"

#include <immintrin.h>

#include <cmath>

#include "tensor/simd.h"

namespace lantern::tensor {

void RopeCosSin(ThreadPool& pool, std::span<const int32_t> positions,
                std::span<const double> inv_freq, double scale, float* cos, float* sin) {
  const int64_t half = static_cast<int64_t>(inv_freq.size());
  pool.ParallelFor(static_cast<int64_t>(positions.size()), std::max<int64_t>(1, 256 / half),
                   [&](int64_t begin, int64_t end) {
                     for (int64_t r = begin; r < end; ++r) {
                       for (int64_t i = 0; i < half; ++i) {
                         const double angle = positions[r] * inv_freq[i];
                         cos[r * half + i] = static_cast<float>(std::cos(angle) * scale);
                         sin[r * half + i] = static_cast<float>(std::sin(angle) * scale);
                       }
                     }
                   });
}

void ApplyRope(ThreadPool& pool, float* x, int64_t rows, int64_t ld, int heads, int head_dim,
               const float* cos, const float* sin, float mul) {
  const int half = head_dim / 2;
  pool.ParallelFor(rows, std::max<int64_t>(1, 4096 / (int64_t{heads} * head_dim + 1)),
                   [&](int64_t begin, int64_t end) {
                     const __m512 vm = _mm512_set1_ps(mul);
                     for (int64_t r = begin; r < end; ++r) {
                       const float* c = cos + r * half;
                       const float* s = sin + r * half;
                       for (int h = 0; h < heads; ++h) {
                         float* x1 = x + r * ld + static_cast<int64_t>(h) * head_dim;
                         float* x2 = x1 + half;
                         for (int i = 0; i < half; i += 16) {
                           const __mmask16 m = simd::FirstLanes(half - i);
                           const __m512 a = _mm512_maskz_loadu_ps(m, x1 + i);
                           const __m512 b = _mm512_maskz_loadu_ps(m, x2 + i);
                           const __m512 vc = _mm512_maskz_loadu_ps(m, c + i);
                           const __m512 vs = _mm512_maskz_loadu_ps(m, s + i);
                           const __m512 y1 = _mm512_fmsub_ps(a, vc, _mm512_mul_ps(b, vs));
                           const __m512 y2 = _mm512_fmadd_ps(b, vc, _mm512_mul_ps(a, vs));
                           _mm512_mask_storeu_ps(x1 + i, m, _mm512_mul_ps(y1, vm));
                           _mm512_mask_storeu_ps(x2 + i, m, _mm512_mul_ps(y2, vm));
                         }
                       }
                     }
                   });
}

}  // namespace lantern::tensor
