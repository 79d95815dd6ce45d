// Llama-family logits against the independent numpy reference
// (tests/fixtures/llama_reference.py) for every switch the family's configs have, through
// the paged KV cache as the engine drives it: prefill chunks and decode tokens of several
// sequences in one batch, shuffled block tables, blocks reused after a sequence finishes.
#include <gtest/gtest.h>

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

bool MakeLlamaModel(const std::filesystem::path& dir, std::vector<std::string> flags) {
  std::vector<std::string> args = {"--out", dir.string(), "--seed", "7"};
  args.insert(args.end(), flags.begin(), flags.end());
  return testing::RunFixture("make_llama_model.py", args);
}

struct Variant {
  const char* name;
  std::vector<std::string> flags;
  std::vector<std::string> reference_flags = {};
  std::vector<int> block_sizes = {16};
  std::optional<DType> dtype = std::nullopt;  // LoadOptions::dtype (--dtype)
  Quantization quantization = Quantization::kNone;
  // The KV cache's type (--kv-cache-dtype); a 16-bit one needs reference_flags to round K
  // and V the same way (--kv-cache-dtype there too).
  DType kv_dtype = DType::kF32;
};

class LlamaForwardTest : public ::testing::TestWithParam<Variant> {};

TEST_P(LlamaForwardTest, MixedBatchesMatchReference) {
  const Variant& v = GetParam();
  TempDir dir;
  ASSERT_TRUE(MakeLlamaModel(dir.path() / "model", v.flags));
  auto plans = testing::MixedPlans(kVocab);
  std::vector<std::vector<int32_t>> sequences;
  for (const auto& p : plans) sequences.push_back(p.tokens);
  auto model = LoadModel(dir.path() / "model",
                         {.num_threads = 2, .dtype = v.dtype, .quantization = v.quantization});
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  std::vector<std::string> reference_flags = v.reference_flags;
  testing::AddBf16InputFlag(**model, &reference_flags);
  testing::Reference ref = RunReference("llama_reference.py", dir.path() / "model",
                                        dir.path() / "ref", sequences, 0, reference_flags);
  ASSERT_EQ(ref.logits.size(), plans.size());
  const double tolerance = v.kv_dtype == DType::kF32 ? kTolerance : kKvTolerance;
  for (int block_size : v.block_sizes) {
    SCOPED_TRACE("block size " + std::to_string(block_size));
    const int num_blocks = 2 * 330 / block_size + 8;  // ~2x the peak need: blocks get reused
    testing::RunAndCompare(**model, block_size, num_blocks, plans, ref, tolerance, v.kv_dtype);
  }
}

// Original context 32 of the tiny model's 128 positions, so every scaling changes the
// frequencies the test positions use.
INSTANTIATE_TEST_SUITE_P(
    Family, LlamaForwardTest,
    ::testing::Values(
        Variant{"LlamaGqaUntied", {}, {}, {16, 4, 32}},
        Variant{"Llama3RopeScaling",
                {"--rope-theta", "500000", "--rope-scaling",
                 R"({"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,)"
                 R"( "high_freq_factor": 4.0, "original_max_position_embeddings": 32})"}},
        Variant{"LinearRopeLegacyTypeKey",
                {"--rope-scaling", R"({"type": "linear", "factor": 2.5})"}},
        Variant{"DynamicNtkRope",
                {"--rope-scaling", R"({"rope_type": "dynamic", "factor": 2.0})"},
                // Lantern's choice: the frequencies of a factor * max_position sequence.
                {"--dynamic-seq-len", "256"}},
        Variant{
            "YarnRope",
            {"--rope-scaling",
             R"({"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32})"}},
        Variant{"YarnMscaleBetas",
                {"--rope-theta", "1000", "--rope-scaling",
                 R"({"rope_type": "yarn", "factor": 3.0, "mscale": 0.9, "mscale_all_dim": 0.5,)"
                 R"( "beta_fast": 16, "beta_slow": 2, "original_max_position_embeddings": 40})"}},
        Variant{"Qwen2BiasTied",
                {"--model-type", "qwen2", "--tie-word-embeddings", "1", "--rope-theta", "1e6"}},
        Variant{"Qwen3QkNormHeadDim32F16",
                {"--model-type", "qwen3", "--head-dim", "32", "--dtype", "f16"}},
        Variant{"MistralMqaSharded",
                {"--model-type", "mistral", "--kv-heads", "1", "--format", "sharded"}},
        Variant{"LlamaBiasesTiedBF16",
                {"--attention-bias", "1", "--mlp-bias", "1", "--tie-word-embeddings", "1",
                 "--dtype", "bf16", "--heads", "8", "--kv-heads", "8"}},
        Variant{"LlamaPytorchBin", {"--format", "bin", "--kv-heads", "4"}},
        // An F32 checkpoint served in 16 bits: the reference rounds the same weights (to
        // nearest even) and computes in float64, so only the order of the sums differs.
        Variant{"F32ServedAsBFloat16Tied",
                {"--tie-word-embeddings", "1", "--attention-bias", "1"},
                {"--dtype", "bfloat16"},
                {16, 4},
                DType::kBF16},
        Variant{"F32ServedAsFloat16Untied",
                {"--kv-heads", "2"},
                {"--dtype", "float16"},
                {16},
                DType::kF16},
        Variant{"BFloat16ServedAsF32", {"--dtype", "bf16"}, {}, {16}, DType::kF32},
        // int8 in blocks of 32 inputs; the reference quantizes the same way.
        Variant{"Int8Tied",
                {"--tie-word-embeddings", "1", "--ffn", "96"},
                {"--quantization", "int8"},
                {16, 4},
                std::nullopt,
                Quantization::kInt8},
        Variant{"Int8UntiedBFloat16Table",
                {"--kv-heads", "2"},
                {"--quantization", "int8", "--dtype", "bfloat16"},
                {16},
                DType::kBF16,
                Quantization::kInt8},
        Variant{"MistralSlidingWindow",
                {"--model-type", "mistral", "--sliding-window", "21"},
                {},
                {16, 4}},
        Variant{"Qwen2SlidingWindowUpperLayers",
                {"--model-type", "qwen2", "--layers", "3", "--sliding-window", "9",
                 "--max-window-layers", "1"}},
        // 16-bit KV caches (--kv-cache-dtype): the reference rounds K (after RoPE) and V to
        // the same type, then computes in float64.
        Variant{"KvBFloat16Gqa",
                {"--kv-heads", "2"},
                {"--kv-cache-dtype", "bfloat16"},
                {16, 4, 32},
                std::nullopt,
                Quantization::kNone,
                DType::kBF16},
        Variant{"KvFloat16MistralWindowF16Weights",
                {"--model-type", "mistral", "--sliding-window", "21", "--dtype", "f16"},
                {"--kv-cache-dtype", "float16"},
                {16, 4},
                std::nullopt,
                Quantization::kNone,
                DType::kF16},
        Variant{"KvBFloat16WeightsBFloat16Qwen3",
                {"--model-type", "qwen3", "--head-dim", "32"},
                {"--dtype", "bfloat16", "--kv-cache-dtype", "bfloat16"},
                {16},
                DType::kBF16,
                Quantization::kNone,
                DType::kBF16}),
    [](const ::testing::TestParamInfo<Variant>& info) { return info.param.name; });

// Greedy decoding with a chunked prompt and one token per step matches the reference
// token for token.
TEST(LlamaGreedyTest, ContinuationMatchesReference) {
  const std::vector<std::vector<std::string>> variants = {
      {"--rope-scaling",
       R"({"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,)"
       R"( "original_max_position_embeddings": 32})"},
      {"--model-type", "qwen3", "--head-dim", "32"},  // untied: tied tiny models repeat
  };
  for (const auto& flags : variants) {
    TempDir dir;
    std::vector<std::string> all = flags;
    all.insert(all.end(), {"--seed", "3"});
    ASSERT_TRUE(MakeLlamaModel(dir.path() / "model", all));
    std::vector<int32_t> prompt = RandomTokens(11, kVocab, 9);
    prompt[0] = 1;  // <s>
    const int steps = 20;
    testing::Reference ref = RunReference("llama_reference.py", dir.path() / "model",
                                          dir.path() / "ref", {prompt}, steps);
    ASSERT_EQ(ref.greedy.size(), 1u);
    auto model = LoadModel(dir.path() / "model", {.num_threads = 2});
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    EXPECT_EQ(testing::GreedyContinuation(**model, prompt, steps), ref.greedy[0]) << flags[1];
  }
}

}  // namespace
}  // namespace lantern::model
