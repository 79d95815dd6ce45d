// cuBLASLt Linear against a float64 loop over the same 16-bit inputs (skipped without a
// device): layouts ([out][in] weights, leading dimension of y), accumulate, odd shapes.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "tensor/cuda/cuda_ops.h"
#include "tests/unit/tensor/cuda/cuda_test_util.h"

namespace lantern::tensor::cuda {
namespace {

using testing::DeviceVector;
using testing::RandomFloats;
using testing::StreamHolder;
using testing::Widen;

struct Shape {
  int64_t rows, in, out, ldy;
};

class CudaGemmTest : public ::testing::TestWithParam<Half> {};

TEST_P(CudaGemmTest, LinearMatchesAFloat64Loop) {
  LANTERN_REQUIRE_CUDA_DEVICE();
  const Half type = GetParam();
  StreamHolder stream;
  auto gemm = Gemm::Create(stream.get());
  ASSERT_TRUE(gemm.ok()) << gemm.status().ToString();
  std::mt19937 rng(11);
  const std::vector<Shape> shapes = {{1, 7, 13, 13},         {5, 64, 96, 100},
                                     {33, 130, 257, 257},    {1, 2048, 8192, 8192},
                                     {128, 512, 1024, 1040}, {7, 1, 3, 3}};
  for (const Shape& shape : shapes) {
    for (bool accumulate : {false, true}) {
      std::vector<float> xf = RandomFloats(shape.rows * shape.in, rng);
      std::vector<float> wf = RandomFloats(shape.out * shape.in, rng);
      std::vector<uint16_t> x(xf.size()), w(wf.size());
      ConvertF32ToHalf(xf.data(), xf.size(), type, x.data());
      ConvertF32ToHalf(wf.data(), wf.size(), type, w.data());
      const std::vector<float> xs = Widen(type, x), ws = Widen(type, w);
      const std::vector<float> y0 = RandomFloats(shape.rows * shape.ldy, rng);
      DeviceVector<uint16_t> dx(x, stream.get()), dw(w, stream.get());
      DeviceVector<float> dy(y0, stream.get());
      const Status status = gemm->Linear(dx.get(), shape.rows, shape.in, dw.get(), shape.out, type,
                                         dy.get(), shape.ldy, accumulate);
      ASSERT_TRUE(status.ok()) << status.ToString();
      const std::vector<float> y = dy.Read();
      for (int64_t r = 0; r < shape.rows; ++r) {
        for (int64_t o = 0; o < shape.ldy; ++o) {
          const float got = y[r * shape.ldy + o];
          if (o >= shape.out) {  // padding columns of y stay untouched
            ASSERT_EQ(got, y0[r * shape.ldy + o]);
            continue;
          }
          double sum = accumulate ? y0[r * shape.ldy + o] : 0.0, magnitude = 0;
          for (int64_t i = 0; i < shape.in; ++i) {
            sum += double(xs[r * shape.in + i]) * ws[o * shape.in + i];
            magnitude += std::fabs(double(xs[r * shape.in + i]) * ws[o * shape.in + i]);
          }
          // Products of 16-bit values are exact in fp32; the fp32 sums are what differs.
          ASSERT_NEAR(got, sum, 1e-4 * magnitude + 1e-5)
              << testing::Name(type) << " " << shape.rows << "x" << shape.in << "x" << shape.out
              << " accumulate " << accumulate << " at (" << r << ", " << o << ")";
        }
      }
    }
  }
}

TEST_P(CudaGemmTest, PlansAreReusedAcrossCallsOfOneShape) {
  LANTERN_REQUIRE_CUDA_DEVICE();
  const Half type = GetParam();
  StreamHolder stream;
  auto gemm = Gemm::Create(stream.get(), 0);  // no workspace: the heuristic must cope
  ASSERT_TRUE(gemm.ok()) << gemm.status().ToString();
  std::mt19937 rng(12);
  const int64_t rows = 3, in = 64, out = 32;
  std::vector<float> xf = RandomFloats(rows * in, rng), wf = RandomFloats(out * in, rng);
  std::vector<uint16_t> x(xf.size()), w(wf.size());
  ConvertF32ToHalf(xf.data(), xf.size(), type, x.data());
  ConvertF32ToHalf(wf.data(), wf.size(), type, w.data());
  DeviceVector<uint16_t> dx(x, stream.get()), dw(w, stream.get());
  DeviceVector<float> dy(rows * out, stream.get());
  std::vector<float> first;
  for (int call = 0; call < 3; ++call) {
    ASSERT_TRUE(gemm->Linear(dx.get(), rows, in, dw.get(), out, type, dy.get(), out, false).ok());
    const std::vector<float> y = dy.Read();
    if (call == 0) first = y;
    EXPECT_EQ(y, first);  // deterministic for one shape and plan
  }
}

INSTANTIATE_TEST_SUITE_P(Types, CudaGemmTest, ::testing::Values(Half::kBF16, Half::kF16),
                         [](const auto& info) { return testing::Name(info.param); });

}  // namespace
}  // namespace lantern::tensor::cuda
