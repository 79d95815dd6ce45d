// Kernels that offset activations to unsigned (dispatch.h's Gemv8Kernels::weight_offsets and
// offset_panel, AVX-512 VNNI): the offsets are -128 x each block's weight sum per column, and
// the panel that starts from them gives exactly the bits of the one that sums the weights
// itself, so a row computes the same numbers in a batch of 1 (panel) as of 512 (offset_panel).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "tensor/cpu_isa.h"
#include "tensor/dispatch.h"
#include "tensor/gemm8.h"

namespace lantern::tensor {
namespace {

TEST(Gemm8OffsetsTest, OffsetPanelEqualsThePanelThatSumsTheWeightsItself) {
  const Gemv8Kernels& kernels = KernelsFor(DetectCpu().best).gemv8;
  if (kernels.offset_panel == nullptr) {
    GTEST_SKIP() << "this CPU level's int8 kernels take no offsets (no AVX-512 VNNI)";
  }
  ThreadPool pool(1);
  const int64_t k = 200, n = 64, blocks = (k + kInt8BlockRows - 1) / kInt8BlockRows;
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w(k * n);
  for (float& x : w) x = normal(rng);
  const Int8Weights q = QuantizeInt8(pool, w.data(), k, n, n);

  std::vector<int32_t> offsets(blocks * kInt8PanelColumns);
  kernels.weight_offsets(blocks, q.values.data(), offsets.data());
  for (int64_t b = 0; b < blocks; ++b) {
    for (int64_t j = 0; j < n; ++j) {
      int32_t sum = 0;
      for (int64_t p = b * kInt8BlockRows; p < std::min(k, (b + 1) * kInt8BlockRows); ++p) {
        sum += static_cast<int32_t>(std::lround(q.At(p, j) / q.scales[b * kInt8PanelColumns + j]));
      }
      ASSERT_EQ(offsets[b * kInt8PanelColumns + j], -128 * sum) << b << "," << j;
    }
  }

  const int64_t lda8 = blocks * kInt8BlockRows;
  std::vector<int8_t> qa(4 * lda8, 0);
  std::vector<float> sa(4 * blocks);
  for (int r = 0; r < 4; ++r) {
    for (int64_t p = 0; p < k; ++p)
      qa[r * lda8 + p] = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
  }
  for (float& s : sa) s = std::ldexp(1.0f + (rng() % 1000) / 1000.0f, -7);
  std::vector<int8_t> qa_unsigned(qa.size());  // offset_panel's: qa + 128 as bytes
  for (size_t i = 0; i < qa.size(); ++i) qa_unsigned[i] = static_cast<int8_t>(qa[i] ^ 0x80);
  for (int m = 1; m <= 4; ++m) {
    std::vector<float> want(4 * kInt8PanelColumns, 0.25f), got = want;
    kernels.panel(m, blocks, qa.data(), lda8, sa.data(), q.values.data(), q.scales.data(),
                  want.data());
    kernels.offset_panel(m, blocks, qa_unsigned.data(), lda8, sa.data(), q.values.data(),
                         q.scales.data(), offsets.data(), got.data());
    for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], want[i]) << "m=" << m << " at " << i;
  }
}

}  // namespace
}  // namespace lantern::tensor
