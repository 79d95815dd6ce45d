#include "tensor/gemm8.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "tensor/dispatch.h"
#include "tensor/gemm.h"
#include "tensor/skinny_split.h"

namespace lantern::tensor {
namespace {

// As in gemm16.cc: panels of K x 256 dequantized values per thread past a few rows.
constexpr int64_t kPanelColumns = 256;
constexpr int64_t kSkinny8MaxRows = 4;

void DequantizedProduct(int64_t m, int64_t n0, int64_t n1, int64_t k, const float* a, int64_t lda,
                        const int8_t* b, int64_t ldb, const float* scales, float* c, int64_t ldc,
                        bool accumulate) {
  thread_local std::vector<float> panel;
  for (int64_t j0 = n0; j0 < n1; j0 += kPanelColumns) {
    const int64_t width = std::min(kPanelColumns, n1 - j0);
    panel.resize(static_cast<size_t>(k * width));
    for (int64_t p = 0; p < k; ++p) {
      const int8_t* q = b + p * ldb + j0;
      const float* s = scales + (p / kInt8BlockRows) * ldb + j0;
      float* out = panel.data() + p * width;
      for (int64_t j = 0; j < width; ++j) out[j] = static_cast<float>(q[j]) * s[j];
    }
    GemmSingleThread(m, width, k, a, lda, panel.data(), width, c + j0, ldc, accumulate);
  }
}

}  // namespace

void QuantizeInt8(ThreadPool& pool, const float* w, int64_t k, int64_t n, int8_t* q,
                  float* scales) {
  pool.ParallelFor(Int8ScaleRows(k), 1, [&](int64_t begin, int64_t end) {
    for (int64_t block = begin; block < end; ++block) {
      const int64_t p0 = block * kInt8BlockRows, p1 = std::min(k, p0 + kInt8BlockRows);
      float* s = scales + block * n;
      for (int64_t j = 0; j < n; ++j) s[j] = 0.0f;
      for (int64_t p = p0; p < p1; ++p) {
        for (int64_t j = 0; j < n; ++j) s[j] = std::max(s[j], std::fabs(w[p * n + j]));
      }
      for (int64_t j = 0; j < n; ++j) s[j] /= 127.0f;
      for (int64_t p = p0; p < p1; ++p) {
        for (int64_t j = 0; j < n; ++j) {
          const float scaled = s[j] > 0.0f ? w[p * n + j] / s[j] : 0.0f;
          q[p * n + j] = static_cast<int8_t>(std::clamp(std::round(scaled), -127.0f, 127.0f));
        }
      }
    }
  });
}

void Gemm8(ThreadPool& pool, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
           const int8_t* b, int64_t ldb, const float* scales, float* c, int64_t ldc,
           bool accumulate) {
  if (m <= 0 || n <= 0) return;
  const auto columns = Kernels().gemv8.columns;
  // k = 0 too: the skinny kernels write the empty sum (oneDNN would leave C as it was).
  const bool skinny = m <= kSkinny8MaxRows || k == 0;
  SplitColumns(pool, n, 64, [&](int64_t begin, int64_t end) {  // whole lines of int8 weights
    if (skinny) {
      columns(m, begin, end, k, a, lda, b, ldb, scales, c, ldc, accumulate);
    } else {
      DequantizedProduct(m, begin, end, k, a, lda, b, ldb, scales, c, ldc, accumulate);
    }
  });
}

void DequantizeInt8Row(const int8_t* b, int64_t ldb, const float* scales, int64_t row, int64_t n,
                       float* out) {
  const int8_t* q = b + row * ldb;
  const float* s = scales + (row / kInt8BlockRows) * ldb;
  for (int64_t j = 0; j < n; ++j) out[j] = static_cast<float>(q[j]) * s[j];
}

void DequantizeInt8Column(const int8_t* b, int64_t ldb, const float* scales, int64_t column,
                          int64_t k, float* out) {
  for (int64_t p = 0; p < k; ++p) {
    out[p] = static_cast<float>(b[p * ldb + column]) * scales[(p / kInt8BlockRows) * ldb + column];
  }
}

}  // namespace lantern::tensor
