#include "tensor/gemm8.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tensor/dispatch.h"
#include "tensor/skinny_split.h"

namespace lantern::tensor {
namespace {

constexpr int64_t kGroupRows = 4;  // inputs per 32-bit lane
constexpr int64_t kGroupBytes = kGroupRows * kInt8PanelColumns;
constexpr int64_t kBlockBytes = kInt8BlockRows * kInt8PanelColumns;

// Offset of (row, column) in Int8Weights::values, and of (block, column) in its scales.
int64_t ValueOffset(int64_t blocks, int64_t row, int64_t column) {
  const int64_t panel = column / kInt8PanelColumns, j = column % kInt8PanelColumns;
  const int64_t block = row / kInt8BlockRows, in_block = row % kInt8BlockRows;
  return (panel * blocks + block) * kBlockBytes + (in_block / kGroupRows) * kGroupBytes +
         j * kGroupRows + row % kGroupRows;
}

int64_t ScaleOffset(int64_t blocks, int64_t block, int64_t column) {
  return ((column / kInt8PanelColumns) * blocks + block) * kInt8PanelColumns +
         column % kInt8PanelColumns;
}

float Int8Scale(float amax) { return amax / 127.0f; }

// max(amax, |x|), NaN once any x is: a block holding NaN or infinity gets a NaN scale, so its
// products come out NaN, as fp32 ones would, rather than silently finite.
float MaxMagnitude(float amax, float x) {
  const float magnitude = std::fabs(x);
  return std::isnan(amax) || !std::isfinite(magnitude) ? NAN : std::max(amax, magnitude);
}

int8_t QuantizeValue(float x, float scale) {
  const float q = std::round(x / scale);
  // Not a number (a NaN scale, 0 / 0) casts to int8 undefined; such blocks hold 0.
  if (!(scale > 0.0f) || std::isnan(q)) return 0;
  return static_cast<int8_t>(std::clamp(q, -127.0f, 127.0f));
}

// One row of activations: q[0, blocks * 32) (zeros past k) and one scale per block.
void QuantizeRow(const float* a, int64_t k, int64_t blocks, int8_t* q, float* scales) {
  for (int64_t block = 0; block < blocks; ++block) {
    const int64_t p0 = block * kInt8BlockRows, p1 = std::min(k, p0 + kInt8BlockRows);
    float amax = 0.0f;
    for (int64_t p = p0; p < p1; ++p) amax = MaxMagnitude(amax, a[p]);
    const float scale = Int8Scale(amax);
    scales[block] = scale;
    for (int64_t p = p0; p < p1; ++p) q[p] = QuantizeValue(a[p], scale);
    for (int64_t p = p1; p < p0 + kInt8BlockRows; ++p) q[p] = 0;
  }
}

// Rows of A as the kernels read them, kept per thread between calls.
struct QuantizedRows {
  std::vector<int8_t> values;  // [m][blocks * 32]
  std::vector<float> scales;   // [m][blocks]
};

}  // namespace

float Int8Weights::At(int64_t row, int64_t column) const {
  const int64_t b = blocks();
  return static_cast<float>(values[static_cast<size_t>(ValueOffset(b, row, column))]) *
         scales[static_cast<size_t>(ScaleOffset(b, row / kInt8BlockRows, column))];
}

void Int8Weights::ReadRow(int64_t row, float* out) const {
  for (int64_t j = 0; j < n; ++j) out[j] = At(row, j);
}

void Int8Weights::ReadColumn(int64_t column, float* out) const {
  for (int64_t p = 0; p < k; ++p) out[p] = At(p, column);
}

namespace {

// Block `block` of column `column` of q from its inputs w[p * stride] for p in the block (w
// points at the column's input 0).
void QuantizeColumnBlock(const float* w, int64_t stride, int64_t block, int64_t column,
                         Int8Weights& q) {
  const int64_t blocks = q.blocks();
  const int64_t p0 = block * kInt8BlockRows, p1 = std::min(q.k, p0 + kInt8BlockRows);
  float amax = 0.0f;
  for (int64_t p = p0; p < p1; ++p) amax = MaxMagnitude(amax, w[p * stride]);
  const float scale = Int8Scale(amax);
  q.scales[static_cast<size_t>(ScaleOffset(blocks, block, column))] = scale;
  for (int64_t p = p0; p < p1; ++p) {
    q.values[static_cast<size_t>(ValueOffset(blocks, p, column))] =
        QuantizeValue(w[p * stride], scale);
  }
}

}  // namespace

Int8Weights QuantizeInt8(ThreadPool& pool, const float* w, int64_t k, int64_t n, int64_t ldw) {
  Int8Weights q = ZeroInt8Weights(k, n);
  // A block's 32 rows of one column stay in L1 for the columns beside it.
  pool.ParallelFor(q.blocks(), 1, [&](int64_t begin, int64_t end) {
    for (int64_t block = begin; block < end; ++block) {
      for (int64_t j = 0; j < n; ++j) QuantizeColumnBlock(w + j, ldw, block, j, q);
    }
  });
  return q;
}

Int8Weights ZeroInt8Weights(int64_t k, int64_t n) {
  Int8Weights q;
  q.k = k;
  q.n = n;
  q.values.assign(static_cast<size_t>(q.panels() * q.blocks() * kBlockBytes), 0);
  q.scales.assign(static_cast<size_t>(q.panels() * q.blocks() * kInt8PanelColumns), 0.0f);
  return q;
}

void QuantizeInt8Column(const float* w, int64_t column, Int8Weights& q) {
  for (int64_t block = 0; block < q.blocks(); ++block) QuantizeColumnBlock(w, 1, block, column, q);
}

void QuantizeActivationsInt8(const float* a, int64_t k, float* out) {
  const int64_t blocks = (k + kInt8BlockRows - 1) / kInt8BlockRows;
  std::vector<int8_t> q(static_cast<size_t>(blocks * kInt8BlockRows));
  std::vector<float> scales(static_cast<size_t>(blocks));
  QuantizeRow(a, k, blocks, q.data(), scales.data());
  for (int64_t p = 0; p < k; ++p) out[p] = q[p] * scales[p / kInt8BlockRows];
}

void Gemm8(ThreadPool& pool, int64_t m, const float* a, int64_t lda, const Int8Weights& b, float* c,
           int64_t ldc, bool accumulate) {
  const int64_t n = b.n, k = b.k, blocks = b.blocks();
  if (m <= 0 || n <= 0) return;
  if (k == 0) {  // an empty sum
    if (!accumulate) {
      for (int64_t r = 0; r < m; ++r) std::fill(c + r * ldc, c + r * ldc + n, 0.0f);
    }
    return;
  }
  thread_local QuantizedRows rows;
  const int64_t lda8 = blocks * kInt8BlockRows;
  rows.values.resize(static_cast<size_t>(m * lda8));
  rows.scales.resize(static_cast<size_t>(m * blocks));
  QuantizedRows& quantized = rows;  // the caller's, read by every thread below
  const Gemv8Kernels& kernels = Kernels().gemv8;
  // A panel's offsets cost one pass over it; worth it once several row groups share them.
  const bool offsets = kernels.offset_panel != nullptr && m > 4;
  const auto quantize = [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      int8_t* q = quantized.values.data() + r * lda8;
      QuantizeRow(a + r * lda, k, blocks, q, quantized.scales.data() + r * blocks);
      // offset_panel takes them unsigned, qa + 128: the same bits with the sign bit flipped.
      if (offsets) {
        for (int64_t p = 0; p < lda8; ++p) q[p] = static_cast<int8_t>(q[p] ^ 0x80);
      }
    }
  };
  if (m * k >= (int64_t{1} << 16)) {
    pool.ParallelFor(m, 1, quantize);
  } else {
    quantize(0, m);
  }
  SplitColumns(pool, n, kInt8PanelColumns, [&](int64_t begin, int64_t end) {
    alignas(64) float tile[4 * kInt8PanelColumns];
    thread_local std::vector<int32_t> panel_offsets;  // this worker's
    if (offsets) panel_offsets.resize(static_cast<size_t>(blocks * kInt8PanelColumns));
    for (int64_t panel = begin / kInt8PanelColumns; panel * kInt8PanelColumns < end; ++panel) {
      const int64_t j0 = panel * kInt8PanelColumns;
      const int64_t width = std::min(kInt8PanelColumns, end - j0);
      const int8_t* values = b.values.data() + panel * blocks * kBlockBytes;
      const float* scales = b.scales.data() + panel * blocks * kInt8PanelColumns;
      if (offsets) kernels.weight_offsets(blocks, values, panel_offsets.data());
      // Row groups inside the panel, so that its weights stay in cache while rows pass.
      for (int64_t r0 = 0; r0 < m; r0 += 4) {
        const int rows_here = static_cast<int>(std::min<int64_t>(4, m - r0));
        for (int r = 0; r < rows_here; ++r) {
          float* t = tile + r * kInt8PanelColumns;
          const float* cr = c + (r0 + r) * ldc + j0;
          std::fill(t, t + kInt8PanelColumns, 0.0f);
          if (accumulate) std::copy_n(cr, width, t);
        }
        const int8_t* qa = quantized.values.data() + r0 * lda8;
        const float* sa = quantized.scales.data() + r0 * blocks;
        if (offsets) {
          kernels.offset_panel(rows_here, blocks, qa, lda8, sa, values, scales,
                               panel_offsets.data(), tile);
        } else {
          kernels.panel(rows_here, blocks, qa, lda8, sa, values, scales, tile);
        }
        for (int r = 0; r < rows_here; ++r) {
          std::copy_n(tile + r * kInt8PanelColumns, width, c + (r0 + r) * ldc + j0);
        }
      }
    }
  });
}

}  // namespace lantern::tensor
