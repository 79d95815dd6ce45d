// bfloat16 weights kept pair-interleaved (gemm16.h) where the CPU has AVX-512 BF16: the
// layout's index, and Gemm16Pairs (the vdpbf16ps panel kernel) against a double-precision
// product of the bf16-rounded inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <utility>
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

TEST(Bf16PairsTest, IndexInterleavesRowsTwoByTwoInTiles) {
  // Rows 0 and 1 of column j sit side by side, row 2 starts the next pair-row of the tile (a
  // pair-row holds 64 columns, padded).
  EXPECT_EQ(Bf16PairIndex(0, 0, 5), 0);
  EXPECT_EQ(Bf16PairIndex(1, 0, 5), 1);
  EXPECT_EQ(Bf16PairIndex(0, 3, 5), 6);
  EXPECT_EQ(Bf16PairIndex(1, 3, 5), 7);
  EXPECT_EQ(Bf16PairIndex(2, 0, 5), 128);
  EXPECT_EQ(Bf16PairIndex(4, 4, 5), 264);
  // Tiles of 16 pair-rows x 64 columns (2048 values); a band's tiles side by side, each band
  // rotated by one panel: with three panels, band 1 holds panel 2 first.
  EXPECT_EQ(Bf16PairIndex(0, 64, 130), 2048);
  EXPECT_EQ(Bf16PairIndex(33, 65, 130), 5 * 2048 + 2 + 1);
  EXPECT_EQ(Bf16PairIndex(32, 128, 130), 3 * 2048);
  EXPECT_EQ(Bf16PairIndex(32, 0, 130), 4 * 2048);
  // An odd K takes one pair-row more, its second half zero; K and N padded to whole tiles.
  EXPECT_EQ(Bf16PairsSize(3, 5), 2048);
  EXPECT_EQ(Bf16PairsSize(32, 64), 2048);
  EXPECT_EQ(Bf16PairsSize(33, 130), 2 * 3 * 2048);
}

TEST(Bf16PairsTest, IndexPlacesEveryValueOnceInsideTheSize) {
  for (const auto& [k, n] : {std::pair<int64_t, int64_t>{1, 1}, {33, 130}, {96, 256}, {7, 1000}}) {
    std::vector<int> seen(static_cast<size_t>(Bf16PairsSize(k, n)), 0);
    for (int64_t p = 0; p < k; ++p) {
      for (int64_t j = 0; j < n; ++j) {
        const int64_t at = Bf16PairIndex(p, j, n);
        ASSERT_GE(at, 0);
        ASSERT_LT(at, Bf16PairsSize(k, n)) << k << "x" << n << " at " << p << "," << j;
        ASSERT_EQ(seen[at]++, 0) << k << "x" << n << " at " << p << "," << j;
      }
    }
  }
}

TEST(Bf16PairsTest, MatchesTheRoundedProductAtEveryShape) {
  if (!Bf16PairsPreferred()) GTEST_SKIP() << "no AVX-512 BF16 at this kernel level";
  ThreadPool pool(2);
  // Odd and even K, K across several tiles, tails of columns below a vector and a panel, one to
  // seven rows (the kernel's groups) and many (several groups over chunks of K).
  const Shape shapes[] = {{1, 1, 1},     {1, 17, 33},     {1, 576, 576},  {1, 300, 2},
                          {2, 130, 64},  {3, 1000, 7},    {4, 129, 200},  {5, 64, 96},
                          {7, 300, 577}, {16, 257, 65},   {64, 640, 128}, {9, 1500, 2048},
                          {6, 64, 4000}, {32, 2100, 300}, {1, 64, 0},     {9, 33, 0}};
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

// Each row's sum is taken in the same order whatever the batch: serving a sequence alone or
// beside others gives it the same numbers, bit for bit.
TEST(Bf16PairsTest, ARowsResultDoesNotDependOnTheRowsBesideIt) {
  if (!Bf16PairsPreferred()) GTEST_SKIP() << "no AVX-512 BF16 at this kernel level";
  ThreadPool pool(2);
  const int64_t n = 200, k = 301;
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<uint16_t> b(k * n);
  for (auto& x : b) x = FloatToBFloat16Bits(dist(rng));
  const std::vector<uint16_t> pairs = Interleave(b, k, n);
  for (const int64_t m : {2, 5, 7, 32}) {
    std::vector<float> a(m * k), together(m * n), alone(n);
    for (auto& x : a) x = dist(rng);
    Gemm16Pairs(pool, m, n, k, a.data(), k, pairs.data(), together.data(), n);
    for (int64_t i = 0; i < m; ++i) {
      Gemm16Pairs(pool, 1, n, k, a.data() + i * k, k, pairs.data(), alone.data(), n);
      for (int64_t j = 0; j < n; ++j) {
        ASSERT_EQ(alone[j], together[i * n + j]) << m << " rows, at " << i << "," << j;
      }
    }
  }
}

}  // namespace
}  // namespace lantern::tensor
