// bfloat16 weights kept pair-interleaved (gemm16.h) where the CPU has AVX-512 BF16: the
// layout's index, and Gemm16Pairs (the vdpbf16ps skinny kernel for few rows, oneDNN on
// unpacked panels for many) against a double-precision product of the bf16-rounded inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "tensor/gemm16.h"

namespace lantern::tensor {
namespace {

struct Shape {
  int64_t m, n, k;
};

// B[k][n] laid out as the pair kernels read it, from a plain row-major [k][n].
std::vector<uint16_t> Interleave(const std::vector<uint16_t>& plain, int64_t k, int64_t n) {
  std::vector<uint16_t> pairs(static_cast<size_t>(Bf16PairsSize(k, n)), 0);
  for (int64_t p = 0; p < k; ++p) {
    for (int64_t j = 0; j < n; ++j) pairs[Bf16PairIndex(p, j, n)] = plain[p * n + j];
  }
  return pairs;
}

void CheckGemm16Pairs(ThreadPool& pool, Shape s, bool accumulate) {
  const int64_t lda = s.k + 3, ldc = s.n + 7;
  std::mt19937 rng(static_cast<uint32_t>(s.m * 131 + s.n * 7 + s.k));
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> a(s.m * lda), c(s.m * ldc);
  std::vector<uint16_t> b(s.k * s.n);
  for (auto& x : a) x = dist(rng);
  for (auto& x : c) x = dist(rng);
  for (auto& x : b) x = FloatToBFloat16Bits(dist(rng));
  const std::vector<uint16_t> pairs = Interleave(b, s.k, s.n);
  std::vector<float> got = c;
  Gemm16Pairs(pool, s.m, s.n, s.k, a.data(), lda, pairs.data(), got.data(), ldc, accumulate);
  for (int64_t i = 0; i < s.m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      if (j >= s.n) {
        ASSERT_EQ(got[i * ldc + j], c[i * ldc + j]) << "wrote past column " << s.n;
        continue;
      }
      double want = accumulate ? c[i * ldc + j] : 0.0, magnitude = std::abs(want);
      for (int64_t p = 0; p < s.k; ++p) {
        const double input = BFloat16BitsToFloat(FloatToBFloat16Bits(a[i * lda + p]));
        const double product = input * BFloat16BitsToFloat(b[p * s.n + j]);
        want += product;
        magnitude += std::abs(product);
      }
      // bf16 inputs and weights multiply exactly in fp32: only the order of the sums differs.
      ASSERT_NEAR(got[i * ldc + j], want, 1e-5 * (1 + magnitude))
          << s.m << "x" << s.n << "x" << s.k << (accumulate ? " accumulate" : "") << " at " << i
          << "," << j;
    }
  }
}

TEST(Bf16PairsTest, IndexInterleavesRowsTwoByTwo) {
  // Rows 0 and 1 of column j sit side by side, row 2 starts the next pair-row.
  EXPECT_EQ(Bf16PairIndex(0, 0, 5), 0);
  EXPECT_EQ(Bf16PairIndex(1, 0, 5), 1);
  EXPECT_EQ(Bf16PairIndex(0, 3, 5), 6);
  EXPECT_EQ(Bf16PairIndex(1, 3, 5), 7);
  EXPECT_EQ(Bf16PairIndex(2, 0, 5), 10);
  EXPECT_EQ(Bf16PairIndex(4, 4, 5), 28);
  // An odd K takes one pair-row more, its second half zero.
  EXPECT_EQ(Bf16PairsSize(3, 5), 20);
  EXPECT_EQ(Bf16PairsSize(4, 5), 20);
}

TEST(Bf16PairsTest, MatchesTheRoundedProductAtEveryShape) {
  if (!Bf16PairsPreferred()) GTEST_SKIP() << "no AVX-512 BF16 at this kernel level";
  ThreadPool pool(2);
  // Odd and even K, tails of columns below a vector and a tile, one to five rows (the skinny
  // kernel's groups) and many (oneDNN on unpacked panels, one panel and several).
  const Shape shapes[] = {{1, 1, 1},     {1, 17, 33},   {1, 576, 576},  {1, 300, 2},
                          {2, 130, 64},  {3, 1000, 7},  {4, 129, 200},  {5, 64, 96},
                          {7, 300, 577}, {16, 257, 65}, {64, 640, 128}, {9, 1500, 2048},
                          {1, 64, 0},    {9, 33, 0}};
  for (const Shape& s : shapes) {
    for (bool accumulate : {false, true}) CheckGemm16Pairs(pool, s, accumulate);
  }
}

TEST(Bf16PairsTest, OneThreadGivesTheSameResult) {
  if (!Bf16PairsPreferred()) GTEST_SKIP() << "no AVX-512 BF16 at this kernel level";
  ThreadPool pool(1);
  CheckGemm16Pairs(pool, {1, 700, 300}, false);
  CheckGemm16Pairs(pool, {33, 700, 301}, true);
}

}  // namespace
}  // namespace lantern::tensor
