// The run-time kernel dispatch: CPU detection, LANTERN_CPU_ISA's parsing, and every level
// this CPU runs agreeing with the portable path (the reference) on the same inputs, with
// rows ending right before an unmapped page so that a tail read or written past its end
// faults.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tensor/cpu_isa.h"
#include "tensor/dispatch.h"

namespace lantern::tensor {
namespace {

// `count` floats that end where an inaccessible page begins. LANTERN_TEST_NO_GUARD_PAGE=1
// leaves the page accessible: QEMU 7.2's emulated VMASKMOVPS faults on masked-off lanes
// (real CPUs do not), and tests/isa/emulated_cpus.sh runs these tests under it.
class GuardedFloats {
 public:
  explicit GuardedFloats(size_t count) : count_(count) {
    const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    const size_t data_pages = (count * sizeof(float) + page - 1) / page;
    size_ = (data_pages + 1) * page;
    base_ = static_cast<char*>(
        mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    EXPECT_NE(base_, MAP_FAILED);
    const char* no_guard = std::getenv("LANTERN_TEST_NO_GUARD_PAGE");
    if (no_guard == nullptr || std::string(no_guard) != "1") {
      EXPECT_EQ(mprotect(base_ + data_pages * page, page, PROT_NONE), 0);
    }
    data_ = reinterpret_cast<float*>(base_ + data_pages * page) - count;
  }
  ~GuardedFloats() { munmap(base_, size_); }
  GuardedFloats(const GuardedFloats&) = delete;
  GuardedFloats& operator=(const GuardedFloats&) = delete;

  float* data() { return data_; }
  std::vector<float> ToVector() const { return std::vector<float>(data_, data_ + count_); }
  void Fill(const std::vector<float>& values) {
    std::memcpy(data_, values.data(), values.size() * sizeof(float));
  }

 private:
  size_t count_, size_ = 0;
  char* base_ = nullptr;
  float* data_ = nullptr;
};

std::vector<float> Random(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

void ExpectClose(const std::vector<float>& got, const std::vector<float>& want, float rel,
                 const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_NEAR(got[i], want[i], rel * (1.0f + std::abs(want[i]))) << what << " at " << i;
  }
}

std::vector<CpuIsa> LevelsAbovePortable() {
  std::vector<CpuIsa> levels;
  for (CpuIsa isa : DetectCpu().supported) {
    if (isa != CpuIsa::kPortable) levels.push_back(isa);
  }
  return levels;
}

TEST(CpuIsaTest, ChoosesTheBestLevelUnlessOneIsNamed) {
  CpuInfo cpu;
  cpu.model = "test CPU";
  cpu.supported = {CpuIsa::kPortable, CpuIsa::kAvx2};
  cpu.best = CpuIsa::kAvx2;
  EXPECT_EQ(*ChooseCpuIsa("", cpu), CpuIsa::kAvx2);
  EXPECT_EQ(*ChooseCpuIsa("auto", cpu), CpuIsa::kAvx2);
  EXPECT_EQ(*ChooseCpuIsa("portable", cpu), CpuIsa::kPortable);
  EXPECT_EQ(*ChooseCpuIsa("avx2", cpu), CpuIsa::kAvx2);

  const auto lacking = ChooseCpuIsa("avx512", cpu);
  ASSERT_FALSE(lacking.ok());
  EXPECT_EQ(lacking.status().message(),
            "LANTERN_CPU_ISA=avx512: this CPU (test CPU) does not support avx512; it supports "
            "portable, avx2");
  const auto unknown = ChooseCpuIsa("sse9", cpu);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown level"), std::string::npos);
  EXPECT_FALSE(ChooseCpuIsa("neon", cpu).ok());
}

TEST(CpuIsaTest, DetectionAgreesWithTheCompilersOwnCpuChecks) {
  const CpuInfo& cpu = DetectCpu();
  ASSERT_FALSE(cpu.supported.empty());
  EXPECT_EQ(cpu.supported.front(), CpuIsa::kPortable);
  EXPECT_EQ(cpu.best, cpu.supported.back());
  EXPECT_FALSE(cpu.model.empty());
#if defined(__x86_64__)
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool avx512 = avx2 && __builtin_cpu_supports("avx512f") &&
                      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                      __builtin_cpu_supports("avx512dq");
  EXPECT_EQ(cpu.Supports(CpuIsa::kAvx2), avx2);
  EXPECT_EQ(cpu.Supports(CpuIsa::kAvx512), avx512);
  EXPECT_FALSE(cpu.Supports(CpuIsa::kNeon));
#elif defined(__aarch64__)
  EXPECT_TRUE(cpu.Supports(CpuIsa::kNeon));  // Advanced SIMD is part of armv8-a
#endif
}

TEST(CpuIsaTest, TheActiveLevelIsTheOneTheEnvironmentNames) {
  const char* env = std::getenv("LANTERN_CPU_ISA");
  const auto active = ActiveCpuIsa();
  ASSERT_TRUE(active.ok()) << active.status().message();
  EXPECT_EQ(Kernels().isa, *active);
  if (env != nullptr && std::string(env) != "auto") {
    EXPECT_EQ(CpuIsaName(*active), env);
  } else {
    EXPECT_EQ(*active, DetectCpu().best);
  }
}

// Sizes around every vector width (4, 8, 16) and a few model widths.
const int64_t kDims[] = {1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 576, 769};

TEST(CpuDispatchTest, RowKernelsOfEveryLevelMatchThePortablePath) {
  const KernelTables reference = KernelsFor(CpuIsa::kPortable);
  for (CpuIsa isa : LevelsAbovePortable()) {
    const KernelTables tables = KernelsFor(isa);
    const ElementwiseKernels& got = tables.elementwise;
    const ElementwiseKernels& want = reference.elementwise;
    for (int64_t dim : kDims) {
      const std::string what = std::string(CpuIsaName(isa)) + " dim " + std::to_string(dim);
      const auto x = Random(dim, 1 + dim, 4.0f), w = Random(dim, 2 + dim, 1.0f),
                 b = Random(dim, 3 + dim, 1.0f);
      GuardedFloats in(dim), weight(dim), bias(dim), out(dim);
      in.Fill(x), weight.Fill(w), bias.Fill(b);
      // Each kernel through both tables, on the guarded buffers and on a plain copy.
      auto run_row = [&](auto kernel_of, const char* name) {
        std::vector<float> expected = x;
        out.Fill(x);
        kernel_of(got)(out.data());
        kernel_of(want)(expected.data());
        ExpectClose(out.ToVector(), expected, 2e-6f, what + " " + name);
      };
      run_row(
          [&](const ElementwiseKernels& k) {
            return [&](float* o) {
              k.layer_norm_row(in.data(), dim, weight.data(), bias.data(), 1e-5f, o);
            };
          },
          "layer_norm");
      run_row(
          [&](const ElementwiseKernels& k) {
            return [&](float* o) { k.rms_norm_row(in.data(), dim, weight.data(), 1e-6f, o); };
          },
          "rms_norm");
      run_row(
          [&](const ElementwiseKernels& k) {
            return [&](float* o) { k.add_bias_row(o, dim, bias.data()); };
          },
          "add_bias");
      run_row(
          [&](const ElementwiseKernels& k) {
            return [&](float* o) { k.bias_relu_row(o, dim, bias.data()); };
          },
          "bias_relu");
      run_row(
          [&](const ElementwiseKernels& k) {
            return [&](float* o) { k.bias_gelu_tanh_row(o, dim, bias.data()); };
          },
          "bias_gelu_tanh");
      run_row(
          [&](const ElementwiseKernels& k) {
            return [&](float* o) { k.silu_mul_row(in.data(), weight.data(), dim, o); };
          },
          "silu_mul");
      run_row([&](const ElementwiseKernels& k) { return [&](float* o) { k.softmax_row(o, dim); }; },
              "softmax");
      run_row(
          [&](const ElementwiseKernels& k) {
            return [&](float* o) { k.add(o, weight.data(), dim); };
          },
          "add");
      if (dim % 2 == 0) {
        const int head_dim = static_cast<int>(dim);
        GuardedFloats cos(head_dim / 2), sin(head_dim / 2);
        cos.Fill(Random(head_dim / 2, 4, 1.0f)), sin.Fill(Random(head_dim / 2, 5, 1.0f));
        run_row(
            [&](const ElementwiseKernels& k) {
              return [&](float* o) { k.rope_row(o, 1, head_dim, cos.data(), sin.data(), 0.125f); };
            },
            "rope");
      }
    }
  }
}

TEST(CpuDispatchTest, HalfConversionsOfEveryLevelMatchThePortablePath) {
  // Every 16-bit pattern: normals, subnormals, zeros, infinities and NaNs.
  std::vector<uint16_t> all(65536);
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint16_t>(i);
  std::vector<float> want(all.size());
  KernelsFor(CpuIsa::kPortable).elementwise.half_to_float(all.data(), want.data(), 65536);
  EXPECT_EQ(want[0x3C00], 1.0f);
  EXPECT_EQ(want[0x0001], std::ldexp(1.0f, -24));  // the smallest subnormal half
  EXPECT_EQ(want[0xFBFF], -65504.0f);
  EXPECT_TRUE(std::isinf(want[0x7C00]));
  EXPECT_TRUE(std::isnan(want[0x7E00]));
  for (CpuIsa isa : LevelsAbovePortable()) {
    std::vector<float> got(all.size());
    KernelsFor(isa).elementwise.half_to_float(all.data(), got.data(), 65536);
    for (size_t i = 0; i < all.size(); ++i) {
      if (std::isnan(want[i])) {
        ASSERT_TRUE(std::isnan(got[i])) << CpuIsaName(isa) << " half 0x" << std::hex << i;
      } else {
        ASSERT_EQ(got[i], want[i]) << CpuIsaName(isa) << " half 0x" << std::hex << i;
      }
    }
  }
}

TEST(CpuDispatchTest, SkinnyGemmOfEveryLevelMatchesThePortablePath) {
  const GemvKernels reference = KernelsFor(CpuIsa::kPortable).gemv;
  for (CpuIsa isa : LevelsAbovePortable()) {
    const GemvKernels gemv = KernelsFor(isa).gemv;
    for (int64_t m : {1, 2, 3, 4, 5}) {
      for (int64_t n : {1, 7, 24, 33, 64, 100, 200}) {
        const int64_t k = 37;
        const auto a = Random(m * k, 7, 1.0f), b = Random(k * n, 8, 1.0f);
        GuardedFloats weights(k * n), got(m * n);
        weights.Fill(b);
        std::vector<float> want(m * n, 0.0f);
        got.Fill(want);
        gemv.columns(m, 0, n, k, a.data(), k, weights.data(), n, got.data(), n, false);
        reference.columns(m, 0, n, k, a.data(), k, b.data(), n, want.data(), n, false);
        ExpectClose(
            got.ToVector(), want, 1e-5f,
            std::string(CpuIsaName(isa)) + " " + std::to_string(m) + "x" + std::to_string(n));
      }
    }
  }
}

}  // namespace
}  // namespace lantern::tensor
