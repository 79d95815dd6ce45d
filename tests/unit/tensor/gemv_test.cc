#include "tensor/gemv.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "tensor/gemm.h"

namespace lantern::tensor {
namespace {

std::vector<float> Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// C = A * B (+ C) in double, with leading dimensions wider than the matrices so that a
// kernel reading or writing past its columns is caught.
void CheckAgainstNaive(ThreadPool& pool, int64_t m, int64_t n, int64_t k, bool accumulate,
                       bool through_gemm) {
  const int64_t lda = k + 3, ldb = n + 5, ldc = n + 7;
  auto a = Random(m * lda, 1), b = Random(k * ldb, 2), c = Random(m * ldc, 3);
  std::vector<float> got = c;
  if (through_gemm) {
    Gemm(pool, m, n, k, a.data(), lda, b.data(), ldb, got.data(), ldc, accumulate);
  } else {
    SkinnyGemm(pool, m, n, k, a.data(), lda, b.data(), ldb, got.data(), ldc, accumulate);
  }
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      if (j >= n) {
        ASSERT_EQ(got[i * ldc + j], c[i * ldc + j]) << "wrote past column " << n;
        continue;
      }
      double want = accumulate ? c[i * ldc + j] : 0.0;
      double magnitude = std::abs(want);
      for (int64_t p = 0; p < k; ++p) {
        want += double(a[i * lda + p]) * b[p * ldb + j];
        magnitude += std::abs(double(a[i * lda + p]) * b[p * ldb + j]);
      }
      ASSERT_NEAR(got[i * ldc + j], want, 1e-5 * (1 + magnitude))
          << m << "x" << n << "x" << k << (accumulate ? " accumulate" : "") << " at " << i << ","
          << j;
    }
  }
}

TEST(SkinnyGemmTest, MatchesNaiveProductForOddShapes) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int64_t m = 1; m <= 5; ++m) {
      for (int64_t n : {1, 15, 17, 63, 65, 130, 333}) {
        for (int64_t k : {1, 7, 17, 33, 100}) {
          for (bool accumulate : {false, true}) CheckAgainstNaive(pool, m, n, k, accumulate, false);
        }
      }
    }
  }
}

TEST(SkinnyGemmTest, GemmTakesItForFewRowsAndMatchesOnModelShapes) {
  ThreadPool pool(2);
  for (int64_t m = 1; m <= kSkinnyGemmMaxRows + 1; ++m) {
    CheckAgainstNaive(pool, m, 2304, 768, false, true);
    CheckAgainstNaive(pool, m, 770, 3072, true, true);
  }
}

TEST(SkinnyGemmTest, EmptyInnerDimensionZeroesOrKeepsC) {
  ThreadPool pool(2);
  for (bool accumulate : {false, true}) CheckAgainstNaive(pool, 3, 200, 0, accumulate, false);
}

}  // namespace
}  // namespace lantern::tensor
