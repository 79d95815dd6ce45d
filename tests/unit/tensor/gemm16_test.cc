// 16-bit weights: the conversions against their definition (every bit pattern, every tie),
// and Gemm16 at every level against a double-precision product of the widened weights.
#include "tensor/gemm16.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace lantern::tensor {
namespace {

bool IsNan(HalfFormat format, uint16_t h) { return std::isnan(HalfFormatToFloat(format, h)); }

// Every finite value survives widening and narrowing back.
TEST(HalfConversionTest, EveryPatternRoundTrips) {
  for (HalfFormat format : {HalfFormat::kBFloat16, HalfFormat::kFloat16}) {
    for (uint32_t bits = 0; bits <= 0xFFFF; ++bits) {
      const auto h = static_cast<uint16_t>(bits);
      const float f = HalfFormatToFloat(format, h);
      if (std::isnan(f)) {
        EXPECT_TRUE(IsNan(format, FloatToHalfFormat(format, f))) << bits;
      } else {
        ASSERT_EQ(FloatToHalfFormat(format, f), h) << std::hex << bits;
      }
    }
  }
}

// Between two neighbours: the midpoint goes to the even one, anything off it to the nearer.
TEST(HalfConversionTest, RoundsToNearestTiesToEven) {
  for (HalfFormat format : {HalfFormat::kBFloat16, HalfFormat::kFloat16}) {
    for (uint32_t bits = 0; bits < 0x7FFF; ++bits) {
      const auto lo = static_cast<uint16_t>(bits), hi = static_cast<uint16_t>(bits + 1);
      const float a = HalfFormatToFloat(format, lo), b = HalfFormatToFloat(format, hi);
      if (std::isinf(a) || std::isnan(a) || std::isinf(b) || std::isnan(b)) continue;
      const float mid = a + (b - a) / 2;  // exact: both formats have < 24 significand bits
      ASSERT_EQ(FloatToHalfFormat(format, mid), (lo & 1) ? hi : lo) << std::hex << bits;
      ASSERT_EQ(FloatToHalfFormat(format, std::nextafter(mid, a)), lo) << std::hex << bits;
      ASSERT_EQ(FloatToHalfFormat(format, std::nextafter(mid, b)), hi) << std::hex << bits;
      ASSERT_EQ(FloatToHalfFormat(format, -mid), ((lo & 1) ? hi : lo) | 0x8000) << bits;
    }
  }
  // Past the largest half: infinity; below the smallest subnormal's half: zero.
  EXPECT_EQ(FloatToHalfBits(70000.0f), 0x7C00);
  EXPECT_EQ(FloatToHalfBits(65504.0f), 0x7BFF);
  EXPECT_EQ(FloatToHalfBits(std::ldexp(1.0f, -26)), 0x0000);
  EXPECT_EQ(FloatToHalfBits(std::numeric_limits<float>::infinity()), 0x7C00);
  EXPECT_EQ(FloatToBFloat16Bits(std::numeric_limits<float>::max()), 0x7F80);
}

struct Shape {
  int64_t m, n, k;
};

void CheckGemm16(ThreadPool& pool, HalfFormat format, Shape s, bool accumulate) {
  const int64_t lda = s.k + 3, ldb = s.n + 5, ldc = s.n + 7;
  std::mt19937 rng(static_cast<uint32_t>(s.m * 131 + s.n * 7 + s.k));
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> a(s.m * lda), c(s.m * ldc);
  std::vector<uint16_t> b(s.k * ldb);
  for (auto& x : a) x = dist(rng);
  for (auto& x : c) x = dist(rng);
  for (auto& x : b) x = FloatToHalfFormat(format, dist(rng));
  std::vector<float> got = c;
  Gemm16(pool, format, s.m, s.n, s.k, a.data(), lda, b.data(), ldb, got.data(), ldc, accumulate);
  // Against bfloat16 weights the inputs are rounded to bfloat16 as well (gemm16.h).
  const bool rounds_inputs = format == HalfFormat::kBFloat16;
  double farthest_unrounded = 0;  // how far the product of the unrounded inputs lies
  for (int64_t i = 0; i < s.m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      if (j >= s.n) {
        ASSERT_EQ(got[i * ldc + j], c[i * ldc + j]) << "wrote past column " << s.n;
        continue;
      }
      double want = accumulate ? c[i * ldc + j] : 0.0, magnitude = std::abs(want);
      double unrounded = want;
      for (int64_t p = 0; p < s.k; ++p) {
        const float x = a[i * lda + p];
        const double input = rounds_inputs ? BFloat16BitsToFloat(FloatToBFloat16Bits(x)) : x;
        const double weight = HalfFormatToFloat(format, b[p * ldb + j]);
        want += input * weight;
        unrounded += x * weight;
        magnitude += std::abs(input * weight);
      }
      // Inputs and weights are exact in fp32: only the order of the fp32 sums differs.
      ASSERT_NEAR(got[i * ldc + j], want, 1e-5 * (1 + magnitude))
          << s.m << "x" << s.n << "x" << s.k << (accumulate ? " accumulate" : "") << " at " << i
          << "," << j;
      farthest_unrounded =
          std::max(farthest_unrounded, std::abs(unrounded - want) / (1 + magnitude));
    }
  }
  // The check can tell: with enough terms, skipping the rounding misses by far more.
  if (rounds_inputs && s.k >= 64) {
    EXPECT_GT(farthest_unrounded, 1e-4) << s.m << "x" << s.n << "x" << s.k;
  }
}

TEST(Gemm16Test, MatchesTheWidenedProductAtEveryShape) {
  ThreadPool pool(2);
  const Shape shapes[] = {{1, 1, 1},     {1, 17, 33},    {1, 576, 576}, {2, 130, 64},
                          {3, 1000, 7},  {4, 129, 200},  {5, 64, 96},   {7, 300, 576},
                          {16, 257, 65}, {64, 640, 128}, {1, 64, 0},    {9, 33, 0}};
  for (HalfFormat format : {HalfFormat::kBFloat16, HalfFormat::kFloat16}) {
    for (const Shape& s : shapes) {
      for (bool accumulate : {false, true}) CheckGemm16(pool, format, s, accumulate);
    }
  }
}

TEST(Gemm16Test, OneThreadGivesTheSameResult) {
  ThreadPool pool(1);
  for (HalfFormat format : {HalfFormat::kBFloat16, HalfFormat::kFloat16}) {
    CheckGemm16(pool, format, {1, 700, 300}, false);
    CheckGemm16(pool, format, {33, 700, 300}, true);
  }
}

}  // namespace
}  // namespace lantern::tensor
