// The portable int8 panel kernel (gemm8.h, dispatch.h's Gemv8Kernels): each block's integer
// dot products in plain C++ loops over the packed layout, which the compiler vectorizes for
// the baseline. The reference for the SIMD variants, and the NEON level's kernel without sdot.
#include <cstdint>

#include "tensor/dispatch.h"
#include "tensor/gemm8.h"
#include "tensor/skinny_split.h"

namespace lantern::tensor::portable {
namespace {

constexpr int kColumns = static_cast<int>(kInt8PanelColumns);
constexpr int kGroups = static_cast<int>(kInt8BlockRows / 4);

template <int M>
void Panel(int64_t blocks, const int8_t* qa, int64_t lda8, const float* sa, const int8_t* values,
           const float* scales, float* tile) {
  for (int64_t b = 0; b < blocks; ++b) {
    int32_t sums[M][kColumns] = {};
    const int8_t* block = values + b * kInt8BlockRows * kColumns;
    for (int g = 0; g < kGroups; ++g) {
      const int8_t* group = block + g * 4 * kColumns;
      for (int r = 0; r < M; ++r) {
        const int8_t* x = qa + r * lda8 + b * kInt8BlockRows + g * 4;
        for (int j = 0; j < kColumns; ++j) {
          const int8_t* w = group + j * 4;
          sums[r][j] += x[0] * w[0] + x[1] * w[1] + x[2] * w[2] + x[3] * w[3];
        }
      }
    }
    const float* scale = scales + b * kColumns;
    for (int r = 0; r < M; ++r) {
      const float row_scale = sa[r * blocks + b];
      float* out = tile + r * kColumns;
      for (int j = 0; j < kColumns; ++j) {
        out[j] += static_cast<float>(sums[r][j]) * (scale[j] * row_scale);
      }
    }
  }
}

void PanelRows(int m, int64_t blocks, const int8_t* qa, int64_t lda8, const float* sa,
               const int8_t* values, const float* scales, float* tile) {
  WithRowCount(m, [&]<int M>() { Panel<M>(blocks, qa, lda8, sa, values, scales, tile); });
}

}  // namespace

void InstallGemv8(Gemv8Kernels& table) { table.panel = PanelRows; }

}  // namespace lantern::tensor::portable
