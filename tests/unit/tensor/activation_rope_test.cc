// The kernels of the Llama family and GPT-2 against double-precision formulas: RMSNorm
// (whole rows and per head), SwiGLU, GELU (tanh) and rotary embeddings.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "tensor/kernels.h"
#include "tensor/rope.h"

namespace lantern::tensor {
namespace {

std::vector<float> Random(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

double RmsInv(const float* x, int64_t dim, double eps) {
  double sq = 0;
  for (int64_t c = 0; c < dim; ++c) sq += double(x[c]) * x[c];
  return 1.0 / std::sqrt(sq / dim + eps);
}

TEST(RmsNormTest, MatchesDoublePrecision) {
  ThreadPool pool(2);
  for (int64_t dim : {1, 7, 16, 37, 576}) {
    const int64_t rows = 5;
    auto x = Random(rows * dim, 1, 3.0f), w = Random(dim, 2);
    std::vector<float> out(x.size());
    RmsNorm(pool, x.data(), rows, dim, w.data(), 1e-6f, out.data());
    for (int64_t r = 0; r < rows; ++r) {
      const double inv = RmsInv(x.data() + r * dim, dim, 1e-6);
      for (int64_t c = 0; c < dim; ++c) {
        const double want = x[r * dim + c] * inv * w[c];
        ASSERT_NEAR(out[r * dim + c], want, 1e-5 * (1 + std::abs(want))) << dim;
      }
    }
  }
}

TEST(RmsNormTest, PerGroupInPlaceLeavesTheRestOfTheRow) {
  ThreadPool pool(2);
  const int64_t rows = 3, groups = 4, dim = 24, ld = groups * dim + 40;
  auto x = Random(rows * ld, 3), w = Random(dim, 4);
  std::vector<float> got = x;
  GroupRmsNormInPlace(pool, got.data(), rows, ld, groups, dim, w.data(), 1e-6f);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t g = 0; g < groups; ++g) {
      const float* v = x.data() + r * ld + g * dim;
      const double inv = RmsInv(v, dim, 1e-6);
      for (int64_t c = 0; c < dim; ++c) {
        ASSERT_NEAR(got[r * ld + g * dim + c], v[c] * inv * w[c], 1e-5);
      }
    }
    for (int64_t c = groups * dim; c < ld; ++c) ASSERT_EQ(got[r * ld + c], x[r * ld + c]);
  }
}

TEST(ActivationTest, SiluMulMatchesDoublePrecision) {
  ThreadPool pool(2);
  for (int64_t dim : {1, 15, 160, 1536}) {
    const int64_t rows = 4;
    auto gu = Random(rows * 2 * dim, 5, 4.0f);
    gu[0] = -100.0f;  // saturated sigmoid
    gu[1 % dim] = 95.0f;
    std::vector<float> out(rows * dim);
    SiluMul(pool, gu.data(), rows, dim, out.data());
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < dim; ++c) {
        const double g = gu[r * 2 * dim + c], u = gu[r * 2 * dim + dim + c];
        const double want = g / (1 + std::exp(-g)) * u;
        ASSERT_NEAR(out[r * dim + c], want, 2e-6 * (1 + std::abs(want))) << g << " " << u;
      }
    }
  }
}

TEST(ActivationTest, GeluTanhMatchesDoublePrecision) {
  ThreadPool pool(2);
  for (int64_t dim : {1, 17, 3072}) {
    const int64_t rows = 3;
    auto x = Random(rows * dim, 6, 3.0f), bias = Random(dim, 7);
    x[0] = -50.0f;
    for (int with_bias = 0; with_bias < 2; ++with_bias) {
      std::vector<float> got = x;
      BiasGeluTanh(pool, got.data(), rows, dim, with_bias ? bias.data() : nullptr);
      for (int64_t i = 0; i < rows * dim; ++i) {
        const double v = double(x[i]) + (with_bias ? bias[i % dim] : 0.0);
        const double want =
            0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
        ASSERT_NEAR(got[i], want, 2e-6 * (1 + std::abs(want))) << v;
      }
    }
  }
}

TEST(RopeTest, RotatesHalvesLikeRotateHalf) {
  ThreadPool pool(2);
  for (int head_dim : {2, 16, 40, 64, 128}) {
    const int heads = 3, rows = 5, half = head_dim / 2;
    const int64_t ld = heads * head_dim + 8;
    std::vector<double> inv_freq(half);
    for (int i = 0; i < half; ++i) inv_freq[i] = 1.0 / std::pow(10000.0, 2.0 * i / head_dim);
    std::vector<int32_t> positions = {0, 1, 7, 100, 4000};
    std::vector<float> cos(rows * half), sin(rows * half);
    RopeCosSin(pool, positions, inv_freq, 1.5, cos.data(), sin.data());
    auto x = Random(rows * ld, 8);
    std::vector<float> got = x;
    ApplyRope(pool, got.data(), rows, ld, heads, head_dim, cos.data(), sin.data(), 0.25f);
    for (int r = 0; r < rows; ++r) {
      for (int h = 0; h < heads; ++h) {
        const float* v = x.data() + r * ld + h * head_dim;
        for (int i = 0; i < head_dim; ++i) {
          const int f = i % half;
          const double angle = positions[r] * inv_freq[f];
          const double rotated = i < half ? -v[i + half] : v[i - half];
          const double want = (v[i] * std::cos(angle) + rotated * std::sin(angle)) * 1.5 * 0.25;
          ASSERT_NEAR(got[r * ld + h * head_dim + i], want, 2e-6) << head_dim << " " << i;
        }
      }
      for (int64_t c = heads * head_dim; c < ld; ++c) ASSERT_EQ(got[r * ld + c], x[r * ld + c]);
    }
  }
}

}  // namespace
}  // namespace lantern::tensor
