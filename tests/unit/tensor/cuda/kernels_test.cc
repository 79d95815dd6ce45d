// The row kernels on the device against plain CPU references (skipped without a device).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "tensor/cuda/cuda_ops.h"
#include "tests/unit/tensor/cuda/cuda_test_util.h"

namespace lantern::tensor::cuda {
namespace {

using testing::DeviceVector;
using testing::Epsilon;
using testing::RandomFloats;
using testing::StreamHolder;
using testing::Widen;

// Compares a 16-bit result with an fp32 reference: one rounding of the type plus fp32 slack.
void ExpectNear16(Half type, const std::vector<uint16_t>& got, const std::vector<float>& want,
                  const char* what) {
  const std::vector<float> wide = Widen(type, got);
  ASSERT_EQ(wide.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_NEAR(wide[i], want[i], 2 * Epsilon(type) * std::fabs(want[i]) + 1e-5f)
        << what << " " << testing::Name(type) << " at " << i;
  }
}

class CudaKernelsTest : public ::testing::TestWithParam<Half> {};

TEST_P(CudaKernelsTest, RmsNormAndLayerNorm) {
  LANTERN_REQUIRE_CUDA_DEVICE();
  const Half type = GetParam();
  StreamHolder stream;
  std::mt19937 rng(1);
  for (int64_t dim : {1, 7, 64, 1000, 4096}) {
    const int64_t rows = 5;
    const std::vector<float> x = RandomFloats(rows * dim, rng, -3, 3);
    const std::vector<float> w = RandomFloats(dim, rng, 0.5, 1.5);
    const std::vector<float> b = RandomFloats(dim, rng);
    std::vector<float> rms(rows * dim), ln(rows * dim), ln_plain(rows * dim);
    for (int64_t r = 0; r < rows; ++r) {
      double sq = 0, sum = 0;
      for (int64_t c = 0; c < dim; ++c) sq += double(x[r * dim + c]) * x[r * dim + c];
      for (int64_t c = 0; c < dim; ++c) sum += x[r * dim + c];
      const double mean = sum / dim;
      double var = 0;
      for (int64_t c = 0; c < dim; ++c) var += (x[r * dim + c] - mean) * (x[r * dim + c] - mean);
      const double inv_rms = 1 / std::sqrt(sq / dim + 1e-6);
      const double inv_std = 1 / std::sqrt(var / dim + 1e-5);
      for (int64_t c = 0; c < dim; ++c) {
        rms[r * dim + c] = float(x[r * dim + c] * inv_rms * w[c]);
        ln_plain[r * dim + c] = float((x[r * dim + c] - mean) * inv_std);
        ln[r * dim + c] = float(ln_plain[r * dim + c] * double(w[c]) + b[c]);
      }
    }
    DeviceVector<float> dx(x, stream.get()), dw(w, stream.get()), db(b, stream.get());
    DeviceVector<uint16_t> out(rows * dim, stream.get());
    RmsNorm(dx.get(), rows, dim, dw.get(), 1e-6f, out.get(), type, stream.get());
    ASSERT_TRUE(LastLaunchError().ok());
    ExpectNear16(type, out.Read(), rms, "RmsNorm");
    LayerNorm(dx.get(), rows, dim, dw.get(), db.get(), 1e-5f, out.get(), type, stream.get());
    ExpectNear16(type, out.Read(), ln, "LayerNorm");
    LayerNorm(dx.get(), rows, dim, nullptr, nullptr, 1e-5f, out.get(), type, stream.get());
    ExpectNear16(type, out.Read(), ln_plain, "LayerNorm without affine");
  }
}

TEST_P(CudaKernelsTest, ActivationsAndToHalf) {
  LANTERN_REQUIRE_CUDA_DEVICE();
  const Half type = GetParam();
  StreamHolder stream;
  std::mt19937 rng(2);
  const int64_t rows = 3, ffn = 333;
  const std::vector<float> gate_up = RandomFloats(rows * 2 * ffn, rng, -6, 6);
  std::vector<float> silu(rows * ffn), gelu(rows * 2 * ffn), relu(rows * 2 * ffn);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < ffn; ++c) {
      const double g = gate_up[r * 2 * ffn + c], u = gate_up[r * 2 * ffn + ffn + c];
      silu[r * ffn + c] = float(g / (1 + std::exp(-g)) * u);
    }
  }
  for (size_t i = 0; i < gate_up.size(); ++i) {
    const double v = gate_up[i];
    gelu[i] = float(0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))));
    relu[i] = v > 0 ? float(v) : 0.0f;
  }
  DeviceVector<float> dx(gate_up, stream.get());
  DeviceVector<uint16_t> out(gate_up.size(), stream.get());
  DeviceVector<uint16_t> half_out(rows * ffn, stream.get());
  SiluMul(dx.get(), rows, ffn, half_out.get(), type, stream.get());
  ExpectNear16(type, half_out.Read(), silu, "SiluMul");
  GeluTanh(dx.get(), rows, 2 * ffn, out.get(), type, stream.get());
  ExpectNear16(type, out.Read(), gelu, "GeluTanh");
  Relu(dx.get(), rows, 2 * ffn, out.get(), type, stream.get());
  ExpectNear16(type, out.Read(), relu, "Relu");
  ToHalf(dx.get(), static_cast<int64_t>(gate_up.size()), out.get(), type, stream.get());
  const std::vector<uint16_t> bits = out.Read();
  std::vector<uint16_t> want(gate_up.size());
  ConvertF32ToHalf(gate_up.data(), gate_up.size(), type, want.data());
  EXPECT_EQ(bits, want);  // the device rounds as the host: to nearest even
  ASSERT_TRUE(LastLaunchError().ok());
}

TEST_P(CudaKernelsTest, EmbeddingGatherWidensTheTableRows) {
  LANTERN_REQUIRE_CUDA_DEVICE();
  const Half type = GetParam();
  StreamHolder stream;
  std::mt19937 rng(3);
  const int64_t vocab = 50, dim = 37;
  const std::vector<float> table_f = RandomFloats(vocab * dim, rng);
  std::vector<uint16_t> table(table_f.size());
  ConvertF32ToHalf(table_f.data(), table_f.size(), type, table.data());
  const std::vector<float> wide = Widen(type, table);
  const std::vector<int32_t> ids = {3, 0, 49, 3, 17};
  DeviceVector<uint16_t> dtable(table, stream.get());
  DeviceVector<int32_t> dids(ids, stream.get());
  DeviceVector<float> out(ids.size() * dim, stream.get());
  EmbeddingGather(dtable.get(), type, dim, dids.get(), static_cast<int64_t>(ids.size()), out.get(),
                  stream.get());
  const std::vector<float> got = out.Read();
  for (size_t r = 0; r < ids.size(); ++r) {
    for (int64_t c = 0; c < dim; ++c) ASSERT_EQ(got[r * dim + c], wide[ids[r] * dim + c]);
  }
}

INSTANTIATE_TEST_SUITE_P(Types, CudaKernelsTest, ::testing::Values(Half::kBF16, Half::kF16),
                         [](const auto& info) { return testing::Name(info.param); });

TEST(CudaKernelsFp32Test, GroupRmsNormAddBiasGatherRows) {
  LANTERN_REQUIRE_CUDA_DEVICE();
  StreamHolder stream;
  std::mt19937 rng(4);
  const int64_t rows = 4, ld = 3 * 40 + 5;
  const int heads = 3, head_dim = 40;
  std::vector<float> x = RandomFloats(rows * ld, rng, -2, 2);
  const std::vector<float> w = RandomFloats(head_dim, rng, 0.5, 1.5);
  std::vector<float> want = x;
  for (int64_t r = 0; r < rows; ++r) {
    for (int h = 0; h < heads; ++h) {
      float* v = want.data() + r * ld + h * head_dim;
      double sq = 0;
      for (int d = 0; d < head_dim; ++d) sq += double(v[d]) * v[d];
      const double inv = 1 / std::sqrt(sq / head_dim + 1e-6);
      for (int d = 0; d < head_dim; ++d) v[d] = float(v[d] * inv * w[d]);
    }
  }
  DeviceVector<float> dx(x, stream.get()), dw(w, stream.get());
  GroupRmsNormInPlace(dx.get(), rows, ld, heads, head_dim, dw.get(), 1e-6f, stream.get());
  std::vector<float> got = dx.Read();
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-5f) << i;

  const int64_t cols = 100;
  const std::vector<float> bias = RandomFloats(cols, rng);
  AddBias(dx.get(), rows, cols, ld, nullptr, stream.get());  // null bias: nothing
  DeviceVector<float> dbias(bias, stream.get());
  AddBias(dx.get(), rows, cols, ld, dbias.get(), stream.get());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) want[r * ld + c] += bias[c];
  }
  got = dx.Read();
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-5f) << i;

  const std::vector<int32_t> row_ids = {3, 1, 1};
  DeviceVector<int32_t> dids(row_ids, stream.get());
  DeviceVector<float> gathered(row_ids.size() * ld, stream.get());
  GatherRows(dx.get(), ld, dids.get(), static_cast<int64_t>(row_ids.size()), gathered.get(),
             stream.get());
  const std::vector<float> g = gathered.Read();
  for (size_t i = 0; i < row_ids.size(); ++i) {
    for (int64_t c = 0; c < ld; ++c) ASSERT_EQ(g[i * ld + c], got[row_ids[i] * ld + c]);
  }
}

TEST(CudaKernelsFp32Test, RopeMatchesTheDoubleAngleReference) {
  LANTERN_REQUIRE_CUDA_DEVICE();
  StreamHolder stream;
  std::mt19937 rng(5);
  const int heads = 3, head_dim = 64;
  const int64_t ld = heads * head_dim + 8;
  const std::vector<int32_t> positions = {0, 1, 17, 4095, 131071};
  const int64_t rows = static_cast<int64_t>(positions.size());
  std::vector<double> inv_freq(head_dim / 2);
  for (int i = 0; i < head_dim / 2; ++i) inv_freq[i] = std::pow(500000.0, -2.0 * i / head_dim);
  const double factor = 1.1;
  const float mul = 0.125f;
  const std::vector<float> x = RandomFloats(rows * ld, rng);
  std::vector<float> want = x;
  for (int64_t r = 0; r < rows; ++r) {
    for (int h = 0; h < heads; ++h) {
      float* v = want.data() + r * ld + h * head_dim;
      for (int i = 0; i < head_dim / 2; ++i) {
        const double angle = positions[r] * inv_freq[i];
        const float c = float(std::cos(angle) * factor), s = float(std::sin(angle) * factor);
        const float x1 = v[i], x2 = v[i + head_dim / 2];
        v[i] = (x1 * c - x2 * s) * mul;
        v[i + head_dim / 2] = (x2 * c + x1 * s) * mul;
      }
    }
  }
  DeviceVector<float> dx(x, stream.get());
  DeviceVector<int32_t> dpos(positions, stream.get());
  DeviceVector<double> dfreq(inv_freq, stream.get());
  ApplyRope(dx.get(), rows, ld, heads, head_dim, dpos.get(), dfreq.get(), factor, mul,
            stream.get());
  const std::vector<float> got = dx.Read();
  for (size_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-6f) << i;
}

TEST(CudaKernelsFp32Test, ArgmaxTakesTheLowestIndexOnTies) {
  LANTERN_REQUIRE_CUDA_DEVICE();
  StreamHolder stream;
  std::mt19937 rng(6);
  const int64_t vocab = 128257, rows = 4;
  std::vector<float> logits = RandomFloats(rows * vocab, rng, -10, 10);
  logits[0 * vocab + 5] = 50;
  logits[0 * vocab + 100000] = 50;  // tie: 5 wins
  logits[1 * vocab + vocab - 1] = 99;
  for (int64_t c = 0; c < vocab; ++c) logits[2 * vocab + c] = -1;  // all equal: 0
  logits[3 * vocab + 0] = NAN;
  logits[3 * vocab + 7] = 20;
  const std::vector<int32_t> want = {5, static_cast<int32_t>(vocab - 1), 0, 7};
  DeviceVector<float> dl(logits, stream.get());
  DeviceVector<int32_t> out(rows, stream.get());
  ArgmaxRows(dl.get(), rows, vocab, out.get(), stream.get());
  EXPECT_EQ(out.Read(), want);
}

}  // namespace
}  // namespace lantern::tensor::cuda
