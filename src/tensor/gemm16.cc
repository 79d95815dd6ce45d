#include "tensor/gemm16.h"

#include <algorithm>
#include <vector>

#include "tensor/dispatch.h"
#include "tensor/gemm.h"
#include "tensor/skinny_split.h"

namespace lantern::tensor {
namespace {

// Columns widened at a time for the prefill path: a panel of K x 256 fp32 values (2 MiB at
// K = 2048) per thread, wide enough for oneDNN's blocking, small enough for L2/L3.
constexpr int64_t kPanelColumns = 256;

// Rows up to which the skinny kernel wins over widening a panel for oneDNN. Measured with
// bench/gemv_bench --dtype bfloat16 (docs/performance.md).
constexpr int64_t kSkinny16MaxRows = 4;

void WidenedProduct(HalfFormat format, int64_t m, int64_t n0, int64_t n1, int64_t k, const float* a,
                    int64_t lda, const uint16_t* b, int64_t ldb, float* c, int64_t ldc,
                    bool accumulate) {
  thread_local std::vector<float> panel;
  const auto widen = format == HalfFormat::kBFloat16 ? Kernels().elementwise.bfloat16_to_float
                                                     : Kernels().elementwise.half_to_float;
  for (int64_t j0 = n0; j0 < n1; j0 += kPanelColumns) {
    const int64_t width = std::min(kPanelColumns, n1 - j0);
    panel.resize(static_cast<size_t>(k * width));
    for (int64_t p = 0; p < k; ++p) widen(b + p * ldb + j0, panel.data() + p * width, width);
    GemmSingleThread(m, width, k, a, lda, panel.data(), width, c + j0, ldc, accumulate);
  }
}

}  // namespace

void Gemm16(ThreadPool& pool, HalfFormat format, int64_t m, int64_t n, int64_t k, const float* a,
            int64_t lda, const uint16_t* b, int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  const auto& table = Kernels().gemv16;
  const auto columns = format == HalfFormat::kBFloat16 ? table.bf16_columns : table.f16_columns;
  // k = 0 too: the skinny kernels write the empty sum (oneDNN would leave C as it was).
  const bool skinny = m <= kSkinny16MaxRows || k == 0;
  // Skinny: slices of 32 columns (even shares of the narrow decode shapes, as SkinnyGemm);
  // widened panels: multiples of 64 (aligned loads for oneDNN).
  SplitColumns(pool, n, skinny ? 32 : 64, [&](int64_t begin, int64_t end) {
    if (skinny) {
      columns(m, begin, end, k, a, lda, b, ldb, c, ldc, accumulate);
    } else {
      WidenedProduct(format, m, begin, end, k, a, lda, b, ldb, c, ldc, accumulate);
    }
  });
}

void HalfToFloatRow(HalfFormat format, const uint16_t* in, float* out, int64_t n) {
  const auto& table = Kernels().elementwise;
  (format == HalfFormat::kBFloat16 ? table.bfloat16_to_float : table.half_to_float)(in, out, n);
}

void FloatToHalfRow(HalfFormat format, const float* in, uint16_t* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = FloatToHalfFormat(format, in[i]);
}

}  // namespace lantern::tensor
