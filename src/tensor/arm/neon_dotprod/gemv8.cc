// The int8 panel kernel with the Armv8.2 dot-product extension (gemm8.h, dispatch.h's
// Gemv8Kernels), installed over the NEON level's portable kernel where the CPU has it. SDOT
// adds four signed-by-signed byte products into each int32 lane: the panel's groups of four
// inputs per column are exactly its lanes, so neither the activations nor the weights need the
// unsigned offset of the x86 kernels. The by-element form takes a row's four activations of a
// group straight from a 32-bit lane of the block's two activation registers (no broadcast).
#include <arm_neon.h>

#include <cstdint>
#include <utility>

#include "tensor/dispatch.h"
#include "tensor/gemm8.h"
#include "tensor/skinny_split.h"

namespace lantern::tensor::neon_dotprod {
namespace {

constexpr int kVectors = static_cast<int>(kInt8PanelColumns / 4);  // int32x4 per group
constexpr int kGroups = static_cast<int>(kInt8BlockRows / 4);
constexpr int64_t kGroupBytes = 4 * kInt8PanelColumns;
constexpr int64_t kBlockBytes = kInt8BlockRows * kInt8PanelColumns;
constexpr int64_t kCacheLine = 64;

// Group G of a block for one vector of 4 columns: its weights are loaded once and serve all M
// rows. The lane must be a constant, hence G. Even and odd groups add into separate sums (an
// integer sum, exact in any order): two dependency chains of 4 instead of one of 8.
template <int G, int M>
inline void AddGroup(const int8_t* columns, const int8x16_t (&x)[M][2], int32x4_t (&sums)[2][M]) {
  const int8x16_t w = vld1q_s8(columns + G * kGroupBytes);
  for (int r = 0; r < M; ++r) {
    sums[G % 2][r] = vdotq_laneq_s32(sums[G % 2][r], w, x[r][G / 4], G % 4);
  }
}

template <int M, int... G>
inline void AddGroups(const int8_t* columns, const int8x16_t (&x)[M][2], int32x4_t (&sums)[2][M],
                      std::integer_sequence<int, G...>) {
  (AddGroup<G, M>(columns, x, sums), ...);
}

// Each block: 4 columns at a time through its 8 groups, so only 2 x M sums (beside the
// block's 2 x M activation registers) are live and the panel is read in one pass for any M.
template <int M>
void Panel(int64_t blocks, const int8_t* qa, int64_t lda8, const float* sa, const int8_t* values,
           const float* scales, float* tile) {
  for (int64_t b = 0; b < blocks; ++b) {
    const int8_t* block = values + b * kBlockBytes;
    // Two blocks ahead: the panel is read once, front to back.
    for (int64_t line = 0; line < kBlockBytes; line += kCacheLine) {
      __builtin_prefetch(block + 2 * kBlockBytes + line);
    }
    int8x16_t x[M][2];
    float row_scales[M];
    for (int r = 0; r < M; ++r) {
      const int8_t* row = qa + r * lda8 + b * kInt8BlockRows;
      x[r][0] = vld1q_s8(row);
      x[r][1] = vld1q_s8(row + 16);
      row_scales[r] = sa[r * blocks + b];
    }
    for (int v = 0; v < kVectors; ++v) {
      int32x4_t sums[2][M];
      for (int r = 0; r < M; ++r) sums[0][r] = sums[1][r] = vdupq_n_s32(0);
      AddGroups<M>(block + v * 16, x, sums, std::make_integer_sequence<int, kGroups>());
      const float32x4_t scale = vld1q_f32(scales + b * kInt8PanelColumns + v * 4);
      for (int r = 0; r < M; ++r) {
        float* out = tile + r * kInt8PanelColumns + v * 4;
        const float32x4_t s = vmulq_n_f32(scale, row_scales[r]);
        const float32x4_t sum = vcvtq_f32_s32(vaddq_s32(sums[0][r], sums[1][r]));
        vst1q_f32(out, vfmaq_f32(vld1q_f32(out), sum, s));
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

}  // namespace lantern::tensor::neon_dotprod
