#include "tensor/rope.h"

#include <algorithm>
#include <cmath>

#include "tensor/dispatch.h"

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
  const int64_t half = head_dim / 2;
  const auto row_kernel = Kernels().elementwise.rope_row;
  pool.ParallelFor(rows, std::max<int64_t>(1, 4096 / (int64_t{heads} * head_dim + 1)),
                   [&](int64_t begin, int64_t end) {
                     for (int64_t r = begin; r < end; ++r) {
                       row_kernel(x + r * ld, heads, head_dim, cos + r * half, sin + r * half, mul);
                     }
                   });
}

}  // namespace lantern::tensor
