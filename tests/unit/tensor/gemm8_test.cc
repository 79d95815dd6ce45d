// int8 weights in blocks: the quantizer against its definition, and Gemm8 at every level
// against a double-precision product of the dequantized weights.
#include "tensor/gemm8.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace lantern::tensor {
namespace {

std::vector<float> Normal(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

TEST(QuantizeInt8Test, ScalesAreBlockMaximaOver127AndValuesRoundToNearest) {
  ThreadPool pool(2);
  const int64_t k = 70, n = 37;  // a partial last block
  std::vector<float> w = Normal(k * n, 1);
  for (int64_t j = 0; j < n; ++j) w[40 * n + j] = 0.0f;
  for (int64_t p = 64; p < k; ++p) w[p * n + 5] = 0.0f;  // an all-zero block: scale 0
  std::vector<int8_t> q(k * n);
  std::vector<float> scales(Int8ScaleRows(k) * n);
  QuantizeInt8(pool, w.data(), k, n, q.data(), scales.data());
  ASSERT_EQ(Int8ScaleRows(k), 3);
  for (int64_t block = 0; block < 3; ++block) {
    for (int64_t j = 0; j < n; ++j) {
      float amax = 0.0f;
      for (int64_t p = block * 32; p < std::min<int64_t>(k, block * 32 + 32); ++p) {
        amax = std::max(amax, std::fabs(w[p * n + j]));
      }
      const float scale = scales[block * n + j];
      ASSERT_EQ(scale, amax / 127.0f) << block << "," << j;
      for (int64_t p = block * 32; p < std::min<int64_t>(k, block * 32 + 32); ++p) {
        const int want = scale > 0 ? static_cast<int>(std::round(w[p * n + j] / scale)) : 0;
        ASSERT_EQ(q[p * n + j], want) << p << "," << j;
        ASSERT_LE(std::fabs(q[p * n + j] * scale - w[p * n + j]), scale / 2 * 1.0001f);
      }
    }
  }
  float row[37], column[70];
  DequantizeInt8Row(q.data(), n, scales.data(), 33, n, row);
  DequantizeInt8Column(q.data(), n, scales.data(), 7, k, column);
  for (int64_t j = 0; j < n; ++j) EXPECT_EQ(row[j], q[33 * n + j] * scales[1 * n + j]);
  for (int64_t p = 0; p < k; ++p) EXPECT_EQ(column[p], q[p * n + 7] * scales[(p / 32) * n + 7]);
}

void CheckGemm8(ThreadPool& pool, int64_t m, int64_t n, int64_t k, bool accumulate) {
  const int64_t lda = k + 3, ldb = n + 5, ldc = n + 7;
  std::vector<float> a = Normal(m * lda, 2), c = Normal(m * ldc, 3), w = Normal(k * ldb, 4);
  std::vector<int8_t> q(k * ldb);
  std::vector<float> scales(Int8ScaleRows(k) * ldb);
  QuantizeInt8(pool, w.data(), k, ldb, q.data(), scales.data());
  std::vector<float> got = c;
  Gemm8(pool, m, n, k, a.data(), lda, q.data(), ldb, scales.data(), got.data(), ldc, accumulate);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      if (j >= n) {
        ASSERT_EQ(got[i * ldc + j], c[i * ldc + j]) << "wrote past column " << n;
        continue;
      }
      double want = accumulate ? c[i * ldc + j] : 0.0, magnitude = std::abs(want);
      for (int64_t p = 0; p < k; ++p) {
        const double weight = double(q[p * ldb + j]) * scales[(p / 32) * ldb + j];
        want += a[i * lda + p] * weight;
        magnitude += std::abs(a[i * lda + p] * weight);
      }
      ASSERT_NEAR(got[i * ldc + j], want, 1e-5 * (1 + magnitude))
          << m << "x" << n << "x" << k << (accumulate ? " accumulate" : "") << " at " << i << ","
          << j;
    }
  }
}

TEST(Gemm8Test, MatchesTheDequantizedProductAtEveryShape) {
  ThreadPool pool(2);
  const int64_t shapes[][3] = {{1, 1, 1},     {1, 17, 33},    {1, 576, 576}, {2, 130, 64},
                               {3, 1000, 7},  {4, 129, 200},  {5, 64, 96},   {7, 300, 576},
                               {16, 257, 65}, {64, 640, 128}, {1, 64, 0},    {9, 33, 0}};
  for (const auto& s : shapes) {
    for (bool accumulate : {false, true}) CheckGemm8(pool, s[0], s[1], s[2], accumulate);
  }
  ThreadPool one(1);
  CheckGemm8(one, 1, 700, 300, false);
  CheckGemm8(one, 33, 700, 300, true);
}

}  // namespace
}  // namespace lantern::tensor
