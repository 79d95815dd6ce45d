#include "tensor/gemm16.h"

#include <algorithm>
#include <vector>

#include "tensor/dispatch.h"
#include "tensor/gemm.h"
#include "tensor/gemm_bf16.h"
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

// Rounds rows of A to bfloat16 (nearest even): into `bits` for a native bf16 product, or into
// `values` (the rounded values as fp32) for the kernels that widen the weights.
void RoundRowsToBf16(ThreadPool& pool, int64_t m, int64_t k, const float* a, int64_t lda,
                     std::vector<uint16_t>* bits, std::vector<float>* values) {
  if (bits != nullptr) bits->resize(static_cast<size_t>(m * k));
  if (values != nullptr) values->resize(static_cast<size_t>(m * k));
  // A decoding step's few rows are rounded here: waking the pool would cost more.
  const int64_t grain = m * k <= (int64_t{1} << 16) ? m : 1;
  pool.ParallelFor(m, grain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* in = a + r * lda;
      if (bits != nullptr) {
        FloatToHalfRow(HalfFormat::kBFloat16, in, bits->data() + r * k, k);
      } else {
        float* out = values->data() + r * k;
        for (int64_t i = 0; i < k; ++i) out[i] = BFloat16BitsToFloat(FloatToBFloat16Bits(in[i]));
      }
    }
  });
}

}  // namespace

void Gemm16(ThreadPool& pool, HalfFormat format, int64_t m, int64_t n, int64_t k, const float* a,
            int64_t lda, const uint16_t* b, int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  const auto& table = Kernels().gemv16;
  const auto columns = format == HalfFormat::kBFloat16 ? table.bf16_columns : table.f16_columns;
  // k = 0 too: the skinny kernels write the empty sum (oneDNN would leave C as it was).
  const bool skinny = m <= kSkinny16MaxRows || k == 0;
  // bfloat16 weights take bfloat16 inputs, rounded to nearest even, as the bf16 matmuls of
  // vLLM and llama.cpp do: so many rows multiply at twice the fp32 rate on CPUs with AVX-512
  // BF16, and every kernel level and batch shape computes the same rounded product (in fp32
  // where there is no bf16 dot product), up to the order of the sums.
  if (format == HalfFormat::kBFloat16 && k > 0) {
    // The calling thread's buffers; the pool's threads read them through the pointers below
    // (a thread_local named inside the lambdas would be each worker's own, empty one).
    thread_local std::vector<uint16_t> bits;
    thread_local std::vector<float> values;
    if (!skinny && NativeBf16GemmAvailable()) {
      RoundRowsToBf16(pool, m, k, a, lda, &bits, nullptr);
      const uint16_t* rounded = bits.data();
      SplitColumns(pool, n, 64, [&](int64_t begin, int64_t end) {
        Bf16GemmSingleThread(m, end - begin, k, rounded, k, b + begin, ldb, c + begin, ldc,
                             accumulate);
      });
      return;
    }
    RoundRowsToBf16(pool, m, k, a, lda, nullptr, &values);
    a = values.data();
    lda = k;
  }
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

bool Bf16PairsPreferred() {
  return Kernels().gemv16.bf16_pair_columns != nullptr && NativeBf16GemmAvailable();
}

void Gemm16Pairs(ThreadPool& pool, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                 const uint16_t* b, float* c, int64_t ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  const auto& table = Kernels().gemv16;
  // Inputs rounded to bfloat16 as Gemm16 does, each row padded to an even length with a zero
  // (the pair kernels read K two at a time). The calling thread's buffer, read by the pool's
  // threads through the pointer.
  const int64_t lda16 = (k + 1) / 2 * 2;
  thread_local std::vector<uint16_t> bits;
  bits.assign(static_cast<size_t>(m * lda16), 0);
  uint16_t* rounded = bits.data();
  const int64_t grain = m * k <= (int64_t{1} << 16) ? m : 1;
  pool.ParallelFor(m, grain, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      FloatToHalfRow(HalfFormat::kBFloat16, a + r * lda, rounded + r * lda16, k);
    }
  });
  if (m <= kSkinny16MaxRows || k == 0) {
    SplitColumns(pool, n, 32, [&](int64_t begin, int64_t end) {
      table.bf16_pair_columns(m, begin, end, k, rounded, lda16, b, n, c, ldc, accumulate);
    });
    return;
  }
  // Many rows: panels of columns unpacked to [K][width] (up to 2 MiB, in L3), each multiplied by
  // oneDNN's bf16 matmul, which reads the panel from cache.
  SplitColumns(pool, n, 64, [&](int64_t begin, int64_t end) {
    thread_local std::vector<uint16_t> panel;
    const int64_t columns = std::clamp<int64_t>((int64_t{1} << 20) / k / 64 * 64, 128, 512);
    for (int64_t j0 = begin; j0 < end; j0 += columns) {
      const int64_t width = std::min(columns, end - j0);
      panel.resize(static_cast<size_t>(k * width));
      table.bf16_pairs_to_rows(b, n, k, j0, width, panel.data());
      Bf16GemmSingleThread(m, width, k, rounded, lda16, panel.data(), width, c + j0, ldc,
                           accumulate);
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
