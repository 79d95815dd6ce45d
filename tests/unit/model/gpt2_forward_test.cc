// GPT-2 logits against the independent numpy reference (tests/fixtures/gpt2_reference.py)
// through the paged KV cache: mixed prefill/decode batches over shuffled, reused blocks,
// greedy continuation, and clear errors for bad checkpoints.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "family_test_util.h"
#include "model/model.h"

namespace lantern::model {
namespace {

using testing::RandomTokens;
using testing::RunReference;
using testing::TempDir;

constexpr double kTolerance = 1e-4;
// With a 16-bit KV cache: Lantern rounds its fp32 K and V, the reference its float64 ones, so
// a value that lies within fp32's error of a rounding midpoint lands one 16-bit step (2^-8
// relative for bfloat16) apart; a few such elements move the logits by up to ~1e-4.
constexpr double kKvTolerance = 3e-4;
constexpr int kVocab = 512;

bool MakeGpt2Model(const std::filesystem::path& dir, std::vector<std::string> flags) {
  std::vector<std::string> args = {"--out", dir.string(), "--seed", "5"};
  args.insert(args.end(), flags.begin(), flags.end());
  return testing::RunFixture("make_gpt2_model.py", args);
}

struct Variant {
  const char* name;
  std::vector<std::string> flags;
  std::vector<int> block_sizes = {16};
  std::optional<DType> dtype = std::nullopt;  // LoadOptions::dtype (--dtype)
  Quantization quantization = Quantization::kNone;
  DType kv_dtype = DType::kF32;  // the KV cache's type (--kv-cache-dtype)
};

class Gpt2ForwardTest : public ::testing::TestWithParam<Variant> {};

TEST_P(Gpt2ForwardTest, MixedBatchesMatchReference) {
  const Variant& v = GetParam();
  TempDir dir;
  ASSERT_TRUE(MakeGpt2Model(dir.path() / "model", v.flags));
  auto plans = testing::MixedPlans(kVocab);
  std::vector<std::vector<int32_t>> sequences;
  for (const auto& p : plans) sequences.push_back(p.tokens);
  std::vector<std::string> reference_flags;
  if (v.dtype == DType::kBF16) reference_flags = {"--dtype", "bfloat16"};
  if (v.dtype == DType::kF16) reference_flags = {"--dtype", "float16"};
  if (v.quantization == Quantization::kInt8) {
    reference_flags.insert(reference_flags.end(), {"--quantization", "int8"});
  }
  if (v.kv_dtype == DType::kBF16) {
    reference_flags.insert(reference_flags.end(), {"--kv-cache-dtype", "bfloat16"});
  }
  if (v.kv_dtype == DType::kF16) {
    reference_flags.insert(reference_flags.end(), {"--kv-cache-dtype", "float16"});
  }
  auto model = LoadModel(dir.path() / "model",
                         {.num_threads = 2, .dtype = v.dtype, .quantization = v.quantization});
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  testing::AddBf16InputFlag(**model, &reference_flags);
  testing::Reference ref = RunReference("gpt2_reference.py", dir.path() / "model",
                                        dir.path() / "ref", sequences, 0, reference_flags);
  ASSERT_EQ(ref.logits.size(), plans.size());
  const double tolerance = v.kv_dtype == DType::kF32 ? kTolerance : kKvTolerance;
  for (int block_size : v.block_sizes) {
    SCOPED_TRACE("block size " + std::to_string(block_size));
    const int num_blocks = 2 * 330 / block_size + 8;
    testing::RunAndCompare(**model, block_size, num_blocks, plans, ref, tolerance, v.kv_dtype);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Family, Gpt2ForwardTest,
    ::testing::Values(
        Variant{"TiedHfLayout", {}, {16, 4}},
        Variant{"OpenaiLayoutF16", {"--layout", "openai", "--dtype", "f16"}},
        Variant{"InnerUntiedShardedScaledByLayer",
                {"--n-inner", "96", "--tie-word-embeddings", "0", "--format", "sharded",
                 "--scale-attn-by-inverse-layer-idx", "1", "--layer-norm-epsilon", "1e-3",
                 "--activation", "gelu_pytorch_tanh"}},
        Variant{"ThreeLayersBF16", {"--n-layer", "3", "--dtype", "bf16"}},
        // F32 checkpoints served in 16 bits (head_dim 16: the q scaling that
        // goes into the weights before rounding is a power of two, exact).
        Variant{"F32ServedAsBFloat16Tied", {}, {16, 4}, DType::kBF16},
        Variant{"F32ServedAsFloat16Untied", {"--tie-word-embeddings", "0"}, {16}, DType::kF16},
        Variant{"Int8Tied", {}, {16, 4}, std::nullopt, Quantization::kInt8},
        Variant{"Int8UntiedInner96",
                {"--tie-word-embeddings", "0", "--n-inner", "96"},
                {16},
                std::nullopt,
                Quantization::kInt8},
        // 16-bit KV caches (--kv-cache-dtype): the reference rounds K and V after c_attn.
        Variant{"KvBFloat16Tied", {}, {16, 4}, std::nullopt, Quantization::kNone, DType::kBF16},
        Variant{"KvFloat16WeightsFloat16ScaledByLayer",
                {"--dtype", "f16", "--scale-attn-by-inverse-layer-idx", "1"},
                {16},
                std::nullopt,
                Quantization::kNone,
                DType::kF16}),
    [](const ::testing::TestParamInfo<Variant>& info) { return info.param.name; });

TEST(Gpt2GreedyTest, ContinuationMatchesReference) {
  TempDir dir;
  ASSERT_TRUE(MakeGpt2Model(dir.path() / "model", {"--seed", "11", "--init-std", "0.2"}));
  std::vector<int32_t> prompt = RandomTokens(11, kVocab, 9);
  const int steps = 20;
  testing::Reference ref =
      RunReference("gpt2_reference.py", dir.path() / "model", dir.path() / "ref", {prompt}, steps);
  ASSERT_EQ(ref.greedy.size(), 1u);
  auto model = LoadModel(dir.path() / "model", {.num_threads = 2});
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(testing::GreedyContinuation(**model, prompt, steps), ref.greedy[0]);
}

class Gpt2ErrorsTest : public ::testing::Test {
 protected:
  std::string LoadErrorAfter(const std::function<void(nlohmann::json&)>& edit) {
    EXPECT_TRUE(MakeGpt2Model(dir_.path(), {}));
    auto config = nlohmann::json::parse(testing::ReadFile(dir_.path() / "config.json"));
    edit(config);
    testing::WriteFile(dir_.path() / "config.json", config.dump(2));
    auto model = LoadModel(dir_.path(), {.num_threads = 1});
    EXPECT_FALSE(model.ok());
    return model.ok() ? "" : model.status().ToString();
  }
  TempDir dir_;
};

TEST_F(Gpt2ErrorsTest, MissingTensorIsNamed) {
  const std::string error = LoadErrorAfter([](nlohmann::json& c) { c["n_layer"] = 3; });
  EXPECT_NE(error.find("transformer.h.2.ln_1.weight"), std::string::npos) << error;
}

TEST_F(Gpt2ErrorsTest, WrongInnerSizeNamesTheTensorAndShapes) {
  const std::string error = LoadErrorAfter([](nlohmann::json& c) { c["n_inner"] = 100; });
  EXPECT_NE(error.find("mlp.c_fc.weight"), std::string::npos) << error;
  EXPECT_NE(error.find("[64, 256]"), std::string::npos) << error;
}

TEST_F(Gpt2ErrorsTest, UnsupportedActivationIsNamed) {
  const std::string error =
      LoadErrorAfter([](nlohmann::json& c) { c["activation_function"] = "relu"; });
  EXPECT_NE(error.find("\"relu\""), std::string::npos) << error;
}

}  // namespace
}  // namespace lantern::model
