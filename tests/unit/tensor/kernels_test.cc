#include "tensor/kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "tensor/gemm.h"

namespace lantern::tensor {
namespace {

std::vector<float> Random(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

TEST(GemmTest, MatchesNaiveProductForManyShapes) {
  ThreadPool pool(2);
  struct Shape {
    int64_t m, n, k;
  };
  for (Shape s : {Shape{1, 1, 1}, Shape{1, 300, 70}, Shape{7, 129, 33}, Shape{64, 1000, 48},
                  Shape{3, 2048, 16}}) {
    auto a = Random(s.m * s.k, 1), b = Random(s.k * s.n, 2), c = Random(s.m * s.n, 3);
    for (bool accumulate : {false, true}) {
      std::vector<float> got = c;
      Gemm(pool, s.m, s.n, s.k, a.data(), s.k, b.data(), s.n, got.data(), s.n, accumulate);
      for (int64_t i = 0; i < s.m; ++i) {
        for (int64_t j = 0; j < s.n; ++j) {
          double want = accumulate ? c[i * s.n + j] : 0.0;
          for (int64_t p = 0; p < s.k; ++p) want += double(a[i * s.k + p]) * b[p * s.n + j];
          ASSERT_NEAR(got[i * s.n + j], want, 1e-4 * (1 + std::abs(want)))
              << s.m << "x" << s.n << "x" << s.k << " at " << i << "," << j;
        }
      }
    }
  }
}

TEST(KernelsTest, LayerNormMatchesDoublePrecision) {
  ThreadPool pool(2);
  for (int64_t dim : {1, 5, 16, 37, 768}) {
    const int64_t rows = 9;
    auto x = Random(rows * dim, 4, 3.0f), gamma = Random(dim, 5), beta = Random(dim, 6);
    for (int affine = 0; affine < 2; ++affine) {
      std::vector<float> out(x.size());
      LayerNorm(pool, x.data(), rows, dim, affine ? gamma.data() : nullptr,
                affine ? beta.data() : nullptr, 1e-5f, out.data());
      for (int64_t r = 0; r < rows; ++r) {
        double mean = 0, var = 0;
        for (int64_t c = 0; c < dim; ++c) mean += x[r * dim + c];
        mean /= dim;
        for (int64_t c = 0; c < dim; ++c) var += std::pow(x[r * dim + c] - mean, 2);
        var /= dim;
        for (int64_t c = 0; c < dim; ++c) {
          double want = (x[r * dim + c] - mean) / std::sqrt(var + 1e-5);
          if (affine) want = want * gamma[c] + beta[c];
          ASSERT_NEAR(out[r * dim + c], want, 1e-5 * (1 + std::abs(want))) << dim;
        }
      }
    }
  }
}

TEST(KernelsTest, BiasReluAddBiasAndAdd) {
  ThreadPool pool(2);
  const int64_t rows = 5, dim = 35;
  auto x = Random(rows * dim, 7), bias = Random(dim, 8);
  std::vector<float> relu = x, plus = x, sum = x;
  BiasRelu(pool, relu.data(), rows, dim, bias.data());
  AddBias(pool, plus.data(), rows, dim, bias.data());
  AddInPlace(pool, sum.data(), x.data(), rows * dim);
  for (int64_t i = 0; i < rows * dim; ++i) {
    EXPECT_FLOAT_EQ(relu[i], std::max(0.0f, x[i] + bias[i % dim]));
    EXPECT_FLOAT_EQ(plus[i], x[i] + bias[i % dim]);
    EXPECT_FLOAT_EQ(sum[i], 2 * x[i]);
  }
  std::vector<float> no_bias = x;
  BiasRelu(pool, no_bias.data(), rows, dim, nullptr);
  for (int64_t i = 0; i < rows * dim; ++i) EXPECT_FLOAT_EQ(no_bias[i], std::max(0.0f, x[i]));
}

TEST(KernelsTest, SoftmaxMatchesStdExp) {
  ThreadPool pool(2);
  for (int64_t dim : {1, 3, 16, 50, 257}) {
    auto x = Random(4 * dim, 9, 10.0f);
    std::vector<float> y = x;
    SoftmaxRows(pool, y.data(), 4, dim);
    for (int r = 0; r < 4; ++r) {
      double mx = -1e30, sum = 0;
      for (int64_t c = 0; c < dim; ++c) mx = std::max<double>(mx, x[r * dim + c]);
      for (int64_t c = 0; c < dim; ++c) sum += std::exp(x[r * dim + c] - mx);
      for (int64_t c = 0; c < dim; ++c) {
        double want = std::exp(x[r * dim + c] - mx) / sum;
        ASSERT_NEAR(y[r * dim + c], want, 1e-6 + 1e-5 * want);
      }
    }
  }
}

TEST(KernelsTest, HalfAndBFloat16Conversions) {
  // 1.0, -2.0, 0.5, 65504 (max half), smallest subnormal half, +inf.
  std::vector<uint16_t> half = {0x3C00, 0xC000, 0x3800, 0x7BFF, 0x0001, 0x7C00,
                                0x3C00, 0x3C00, 0x3C00, 0x3C00, 0x3C00, 0x3C00,
                                0x3C00, 0x3C00, 0x3C00, 0x3C00, 0x4200};
  std::vector<float> out(half.size());
  HalfToFloat(half.data(), out.data(), half.size());
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -2.0f);
  EXPECT_EQ(out[2], 0.5f);
  EXPECT_EQ(out[3], 65504.0f);
  EXPECT_EQ(out[4], std::ldexp(1.0f, -24));
  EXPECT_TRUE(std::isinf(out[5]));
  EXPECT_EQ(out[16], 3.0f);
  std::vector<uint16_t> bf = {0x3F80, 0xC040, 0x3E00};  // 1, -3, 0.125
  std::vector<float> bout(3);
  BFloat16ToFloat(bf.data(), bout.data(), 3);
  EXPECT_EQ(bout[0], 1.0f);
  EXPECT_EQ(bout[1], -3.0f);
  EXPECT_EQ(bout[2], 0.125f);
}

TEST(KernelsTest, Transpose) {
  ThreadPool pool(2);
  const int64_t rows = 67, cols = 45;
  auto x = Random(rows * cols, 10);
  std::vector<float> t(x.size());
  Transpose(pool, x.data(), rows, cols, t.data());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) ASSERT_EQ(t[c * rows + r], x[r * cols + c]);
  }
}

}  // namespace
}  // namespace lantern::tensor
