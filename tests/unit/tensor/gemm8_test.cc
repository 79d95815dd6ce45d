// int8 weights and activations in blocks of 32 (gemm8.h): the quantizers against their
// definitions, Gemm8 against a double-precision product of the quantized operands at the
// process's level, every level's panel kernel against the portable one, and a row's result
// independent of the rows computed beside it.
#include "tensor/gemm8.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "tensor/cpu_isa.h"
#include "tensor/dispatch.h"

namespace lantern::tensor {
namespace {

std::vector<float> Normal(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// The definition: per block of 32 and column, scale = max|w| / 127, q = round(w / scale).
TEST(QuantizeInt8Test, ScalesAreBlockMaximaOver127AndValuesRoundToNearest) {
  ThreadPool pool(2);
  const int64_t k = 70, n = 77, ldw = 80;  // a partial last block and a partial last panel
  std::vector<float> w = Normal(k * ldw, 1);
  for (int64_t j = 0; j < n; ++j) w[40 * ldw + j] = 0.0f;
  for (int64_t p = 64; p < k; ++p) w[p * ldw + 5] = 0.0f;  // an all-zero block: scale 0
  const Int8Weights q = QuantizeInt8(pool, w.data(), k, n, ldw);
  ASSERT_EQ(q.blocks(), 3);
  ASSERT_EQ(q.panels(), 2);
  EXPECT_EQ(q.bytes(), 2u * 3 * (32 * 64 + 64 * 4));  // padded: a byte a value, 4 per scale
  for (int64_t block = 0; block < 3; ++block) {
    for (int64_t j = 0; j < n; ++j) {
      float amax = 0.0f;
      const int64_t p0 = block * 32, p1 = std::min<int64_t>(k, p0 + 32);
      for (int64_t p = p0; p < p1; ++p) amax = std::max(amax, std::fabs(w[p * ldw + j]));
      const float scale = amax / 127.0f;
      for (int64_t p = p0; p < p1; ++p) {
        const float want = scale > 0 ? std::round(w[p * ldw + j] / scale) * scale : 0.0f;
        ASSERT_EQ(q.At(p, j), want) << p << "," << j;
        ASSERT_LE(std::fabs(q.At(p, j) - w[p * ldw + j]), scale / 2 * 1.0001f);
      }
    }
  }
  std::vector<float> row(n), column(k);
  q.ReadRow(33, row.data());
  q.ReadColumn(70 - 1, column.data());
  for (int64_t j = 0; j < n; ++j) EXPECT_EQ(row[j], q.At(33, j));
  for (int64_t p = 0; p < k; ++p) EXPECT_EQ(column[p], q.At(p, 69));
}

TEST(QuantizeInt8Test, ActivationsRoundToTheirBlocksGrid) {
  std::vector<float> a = Normal(45, 7), got(45);
  for (int i = 32; i < 45; ++i) a[i] *= 1e-3f;  // the second block has its own, finer grid
  QuantizeActivationsInt8(a.data(), 45, got.data());
  for (int block = 0; block < 2; ++block) {
    float amax = 0.0f;
    for (int i = block * 32; i < std::min(45, block * 32 + 32); ++i) {
      amax = std::max(amax, std::fabs(a[i]));
    }
    const float scale = amax / 127.0f;
    for (int i = block * 32; i < std::min(45, block * 32 + 32); ++i) {
      ASSERT_EQ(got[i], std::round(a[i] / scale) * scale) << i;
      ASSERT_LE(std::fabs(got[i] - a[i]), scale / 2 * 1.0001f) << i;
    }
  }
}

void CheckGemm8(ThreadPool& pool, int64_t m, int64_t n, int64_t k, bool accumulate) {
  const int64_t lda = k + 3, ldw = n + 5, ldc = n + 7;
  std::vector<float> a = Normal(m * lda, 2), c = Normal(m * ldc, 3), w = Normal(k * ldw, 4);
  const Int8Weights q = QuantizeInt8(pool, w.data(), k, n, ldw);
  std::vector<float> got = c, rounded(k);
  Gemm8(pool, m, a.data(), lda, q, got.data(), ldc, accumulate);
  for (int64_t i = 0; i < m; ++i) {
    QuantizeActivationsInt8(a.data() + i * lda, k, rounded.data());
    for (int64_t j = 0; j < ldc; ++j) {
      if (j >= n) {
        ASSERT_EQ(got[i * ldc + j], c[i * ldc + j]) << "wrote past column " << n;
        continue;
      }
      double want = accumulate ? c[i * ldc + j] : 0.0, magnitude = std::abs(want);
      for (int64_t p = 0; p < k; ++p) {
        want += double(rounded[p]) * q.At(p, j);
        magnitude += std::abs(double(rounded[p]) * q.At(p, j));
      }
      ASSERT_NEAR(got[i * ldc + j], want, 1e-6 * (1 + magnitude))
          << m << "x" << n << "x" << k << (accumulate ? " accumulate" : "") << " at " << i << ","
          << j;
    }
  }
}

TEST(Gemm8Test, MatchesTheProductOfTheQuantizedOperandsAtEveryShape) {
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

// The integer part is exact and the blocks join in order, whatever the batch: serving a
// sequence alone or beside others gives it the same numbers, bit for bit.
TEST(Gemm8Test, ARowsResultDoesNotDependOnTheRowsBesideIt) {
  ThreadPool pool(2);
  const int64_t m = 11, n = 200, k = 320;
  std::vector<float> a = Normal(m * k, 5), w = Normal(k * n, 6);
  const Int8Weights q = QuantizeInt8(pool, w.data(), k, n, n);
  std::vector<float> together(m * n), alone(n);
  Gemm8(pool, m, a.data(), k, q, together.data(), n);
  for (int64_t i = 0; i < m; ++i) {
    Gemm8(pool, 1, a.data() + i * k, k, q, alone.data(), n);
    for (int64_t j = 0; j < n; ++j) ASSERT_EQ(alone[j], together[i * n + j]) << i << "," << j;
  }
}

// A NaN or an infinity among the inputs (a corrupt checkpoint, a model that overflowed) gives
// its block a NaN scale: the rows it reaches come out NaN, as in fp32, and the others exact.
TEST(Gemm8Test, NonFiniteInputsComeOutNaNWhereTheyReach) {
  ThreadPool pool(2);
  const int64_t m = 3, n = 70, k = 64;
  std::vector<float> a = Normal(m * k, 11), w = Normal(k * n, 12);
  a[1 * k + 5] = NAN;
  a[2 * k + 40] = INFINITY;
  w[33 * n + 7] = NAN;  // column 7's second block
  const Int8Weights q = QuantizeInt8(pool, w.data(), k, n, n);
  std::vector<float> c(m * n);
  Gemm8(pool, m, a.data(), k, q, c.data(), n);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      EXPECT_EQ(std::isnan(c[i * n + j]), i > 0 || j == 7) << i << "," << j;
    }
  }
}

// Every panel kernel this CPU runs (each level's, each VNNI one where it has VNNI, the plain
// AVX2 one otherwise hidden under AVX-VNNI, and sdot's on aarch64 with the dot-product
// extension) against the portable one, on one panel of 4 rows: the integer sums are exact, so
// only the last fused multiply-add may differ.
std::vector<std::pair<std::string, Gemv8Kernels>> PanelKernelsOfThisCpu() {
  std::vector<std::pair<std::string, Gemv8Kernels>> kernels;
  for (CpuIsa isa : DetectCpu().supported) {
    kernels.emplace_back(std::string(CpuIsaName(isa)), KernelsFor(isa).gemv8);
  }
#if defined(__x86_64__)
  Gemv8Kernels table{};
  if (DetectCpu().Supports(CpuIsa::kAvx2)) {
    avx2::InstallGemv8(table);
    kernels.emplace_back("avx2 without VNNI", table);
  }
  if (DetectCpu().extensions.avx_vnni) {
    avx_vnni::InstallGemv8(table);
    kernels.emplace_back("avx_vnni", table);
  }
  if (DetectCpu().extensions.avx512_vnni) {
    avx512_vnni::InstallGemv8(table);
    kernels.emplace_back("avx512_vnni", table);
  }
#elif defined(__aarch64__)
  if (DetectCpu().extensions.neon_dotprod) {
    Gemv8Kernels table{};
    neon_dotprod::InstallGemv8(table);
    kernels.emplace_back("neon_dotprod", table);
  }
#endif
  return kernels;
}

TEST(Gemm8Test, EveryPanelKernelMatchesThePortableOne) {
  ThreadPool pool(1);
  const int64_t k = 256, n = 64, blocks = k / kInt8BlockRows;
  std::vector<float> w = Normal(k * n, 9);
  const Int8Weights q = QuantizeInt8(pool, w.data(), k, n, n);
  std::vector<int8_t> qa(4 * k);
  std::vector<float> sa(4 * blocks);
  std::mt19937 rng(10);
  for (auto& x : qa) x = static_cast<int8_t>(static_cast<int>(rng() % 255) - 127);
  for (auto& s : sa) s = std::ldexp(1.0f + (rng() % 1000) / 1000.0f, -7);
  const auto kernels = PanelKernelsOfThisCpu();
  for (int m = 1; m <= 4; ++m) {
    std::vector<float> want(4 * kInt8PanelColumns, 0.5f);
    KernelsFor(CpuIsa::kPortable)
        .gemv8.panel(m, blocks, qa.data(), k, sa.data(), q.values.data(), q.scales.data(),
                     want.data());
    for (const auto& [name, kernel] : kernels) {
      std::vector<float> got(4 * kInt8PanelColumns, 0.5f);
      kernel.panel(m, blocks, qa.data(), k, sa.data(), q.values.data(), q.scales.data(),
                   got.data());
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_NEAR(got[i], want[i], 1e-6f * (1.0f + std::fabs(want[i])))
            << name << " m=" << m << " at " << i;
      }
    }
  }
}

#if defined(__aarch64__)
// The NEON level multiplies int8 with sdot where the CPU has the dot-product extension, and
// with the portable kernel elsewhere.
TEST(Gemm8Test, TheNeonLevelTakesSdotWhereTheCpuHasIt) {
  if (!DetectCpu().Supports(CpuIsa::kNeon)) GTEST_SKIP() << "no NEON";
  Gemv8Kernels sdot{}, plain{};
  neon_dotprod::InstallGemv8(sdot);
  portable::InstallGemv8(plain);
  const bool has_dotprod = DetectCpu().extensions.neon_dotprod;
  EXPECT_EQ(KernelsFor(CpuIsa::kNeon).gemv8.panel, has_dotprod ? sdot.panel : plain.panel);
}
#endif

}  // namespace
}  // namespace lantern::tensor
