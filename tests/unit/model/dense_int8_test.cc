// Loading a linear layer with --quantization int8 quantizes the checkpoint's rows straight
// into the packed panels; the result must be exactly what quantizing the fp32 layer gives
// (QuantizeInt8 over the transposed, fused, scaled matrix: the path every type can take).
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "loader_test_util.h"
#include "model/dense.h"
#include "model/weights.h"
#include "tensor/gemm8.h"
#include "tensor/half.h"

namespace lantern::model {
namespace {

struct Tensor {
  std::string name;
  std::vector<int64_t> shape;
  std::vector<float> values;
};

// A safetensors file holding `tensors` as `dtype` ("F32", "F16" or "BF16").
std::string SafetensorsImage(const std::vector<Tensor>& tensors, const std::string& dtype) {
  std::string header = "{", data;
  for (const Tensor& t : tensors) {
    const size_t begin = data.size();
    for (float x : t.values) {
      if (dtype == "F32") {
        data.append(reinterpret_cast<const char*>(&x), sizeof(x));
      } else {
        const uint16_t bits =
            dtype == "F16" ? tensor::FloatToHalfBits(x) : tensor::FloatToBFloat16Bits(x);
        data.append(reinterpret_cast<const char*>(&bits), sizeof(bits));
      }
    }
    std::string shape;
    for (int64_t d : t.shape) shape += (shape.empty() ? "" : ",") + std::to_string(d);
    header += (header.size() > 1 ? "," : "") + std::string("\"") + t.name + "\":{\"dtype\":\"" +
              dtype + "\",\"shape\":[" + shape + "],\"data_offsets\":[" + std::to_string(begin) +
              "," + std::to_string(data.size()) + "]}";
  }
  header += "}";
  const uint64_t length = header.size();
  return std::string(reinterpret_cast<const char*>(&length), sizeof(length)) + header + data;
}

std::vector<float> RandomValues(size_t n, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 0.05f);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

void ExpectSameInt8(const DenseLinear& direct, const DenseLinear& fp32, ThreadPool& pool) {
  ASSERT_TRUE(direct.int8);
  const tensor::Int8Weights expected =
      tensor::QuantizeInt8(pool, fp32.weight.data(), fp32.in, fp32.out, fp32.out);
  EXPECT_EQ(direct.weight8.k, expected.k);
  EXPECT_EQ(direct.weight8.n, expected.n);
  EXPECT_EQ(direct.weight8.values, expected.values);
  EXPECT_EQ(direct.weight8.scales, expected.scales);
  EXPECT_EQ(direct.bias, fp32.bias);
}

class DenseInt8Test : public ::testing::TestWithParam<const char*> {};

// Parts of 70 and 50 outputs (panels of 64 straddle them), 40 inputs (a partial block of 32).
TEST_P(DenseInt8Test, DirectLoadEqualsQuantizingTheFp32Layer) {
  constexpr int64_t kIn = 40;
  std::mt19937 rng(5);
  std::vector<Tensor> tensors = {{"a.weight", {70, kIn}, RandomValues(70 * kIn, rng)},
                                 {"a.bias", {70}, RandomValues(70, rng)},
                                 {"b.weight", {50, kIn}, RandomValues(50 * kIn, rng)},
                                 {"b.bias", {50}, RandomValues(50, rng)},
                                 {"c.weight", {50, kIn}, RandomValues(50 * kIn, rng)},
                                 {"c.bias", {50}, RandomValues(50, rng)}};
  tensors[0].values[3] = 0.0f;  // blocks with zeros and one all-zero row
  std::fill_n(tensors[2].values.begin(), kIn, 0.0f);
  testing::TempDir dir;
  const auto file = dir.path() / "model.safetensors";
  testing::WriteFile(file, SafetensorsImage(tensors, GetParam()));
  auto store = WeightStore::OpenSafetensors(file);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ThreadPool pool(2);
  const DType served = std::string(GetParam()) == "F32" ? DType::kF32 : DType::kBF16;
  const WeightReader int8_reader(*store, {""}, pool, served, /*int8=*/true);
  const WeightReader fp32_reader(*store, {""}, pool, DType::kF32, /*int8=*/false);

  const std::vector<WeightReader::Part> parts = {{"a", 70}, {"b", 50}};
  auto fused = int8_reader.ReadFused(parts, kIn, /*with_bias=*/true);
  auto fused_fp32 = fp32_reader.ReadFused(parts, kIn, /*with_bias=*/true);
  ASSERT_TRUE(fused.ok()) << fused.status().ToString();
  ASSERT_TRUE(fused_fp32.ok()) << fused_fp32.status().ToString();
  ExpectSameInt8(*fused, *fused_fp32, pool);

  auto scaled = int8_reader.ReadLinear({"b", "c"}, kIn, 50, /*with_bias=*/true, {0.125f, 3.0f});
  auto scaled_fp32 = fp32_reader.ReadLinear({"b", "c"}, kIn, 50, true, {0.125f, 3.0f});
  ASSERT_TRUE(scaled.ok()) << scaled.status().ToString();
  ASSERT_TRUE(scaled_fp32.ok()) << scaled_fp32.status().ToString();
  ExpectSameInt8(*scaled, *scaled_fp32, pool);
}

TEST(DenseInt8ErrorsTest, AWrongShapeIsNamed) {
  std::mt19937 rng(1);
  testing::TempDir dir;
  const auto file = dir.path() / "model.safetensors";
  testing::WriteFile(file,
                     SafetensorsImage({{"a.weight", {8, 16}, RandomValues(128, rng)}}, "F32"));
  auto store = WeightStore::OpenSafetensors(file);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ThreadPool pool(1);
  const WeightReader reader(*store, {""}, pool, DType::kF32, /*int8=*/true);
  auto linear = reader.ReadLinear({"a"}, 32, 8, /*with_bias=*/false);
  ASSERT_FALSE(linear.ok());
  EXPECT_NE(linear.status().message().find("\"a.weight\" has shape [8, 16]"), std::string::npos)
      << linear.status().ToString();
}

INSTANTIATE_TEST_SUITE_P(CheckpointTypes, DenseInt8Test, ::testing::Values("F32", "F16", "BF16"));

}  // namespace
}  // namespace lantern::model
