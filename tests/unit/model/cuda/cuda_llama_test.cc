// The CUDA model (liblantern_cuda.so) on a GPU: logits of every Llama-family variant against
// the numpy reference with weights and KV rounded to 16 bits (llama_reference.py) through
// mixed prefill/decode batches over shuffled, reused blocks; greedy continuations against
// the CPU model; a sequence alone vs in a batch; decode steps replayed by CUDA graphs
// (padded batch sizes) against eager steps. Without a device every test skips, saying why.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "../family_test_util.h"
#include "model/device_backend.h"
#include "model/model.h"

namespace lantern::model {
namespace {

using testing::RandomTokens;
using testing::RunReference;
using testing::TempDir;

constexpr int kVocab = 512;
// The GPU rounds the GEMMs' inputs (normed rows, attention output, SiLU product) to the
// weights' 16-bit type where the reference keeps float64: a few bfloat16 steps (2^-8) on
// the logits of these peaked tiny models.
constexpr double kBf16Tolerance = 4e-2;

LoadOptions Cuda(std::optional<DType> dtype = std::nullopt, bool eager = true) {
  return {.num_threads = 2,
          .dtype = dtype,
          .device = Device{Device::Kind::kCuda, 0},
          .enforce_eager = eager};
}

bool MakeLlamaModel(const std::filesystem::path& dir, std::vector<std::string> flags) {
  std::vector<std::string> args = {"--out", dir.string(), "--seed", "7"};
  args.insert(args.end(), flags.begin(), flags.end());
  return testing::RunFixture("make_llama_model.py", args);
}

class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto device = DescribeCudaDevice(0);
    if (!device.ok()) GTEST_SKIP() << device.status().message();
    std::printf("  device %s\n", device->ToString().c_str());
  }
};

struct Variant {
  const char* name;
  std::vector<std::string> flags;  // make_llama_model.py
  DType kv_dtype = DType::kBF16;
};

class CudaLlamaForwardTest : public CudaTest, public ::testing::WithParamInterface<Variant> {};

TEST_P(CudaLlamaForwardTest, MixedBatchesMatchReference) {
  const Variant& v = GetParam();
  TempDir dir;
  ASSERT_TRUE(MakeLlamaModel(dir.path() / "model", v.flags));
  auto plans = testing::MixedPlans(kVocab);
  std::vector<std::vector<int32_t>> sequences;
  for (const auto& p : plans) sequences.push_back(p.tokens);
  const bool f16 = std::find(v.flags.begin(), v.flags.end(), "f16") != v.flags.end();
  const std::string half = f16 ? "float16" : "bfloat16";
  testing::Reference ref = RunReference(
      "llama_reference.py", dir.path() / "model", dir.path() / "ref", sequences, 0,
      {"--dtype", half, "--kv-cache-dtype", v.kv_dtype == DType::kF16 ? "float16" : "bfloat16"});
  ASSERT_EQ(ref.logits.size(), plans.size());
  auto model = LoadModel(dir.path() / "model", Cuda(f16 ? DType::kF16 : DType::kBF16));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_TRUE((*model)->device().is_cuda());
  for (int block_size : {16, 32}) {
    SCOPED_TRACE("block size " + std::to_string(block_size));
    testing::RunAndCompare(**model, block_size, 2 * 330 / block_size + 8, plans, ref,
                           kBf16Tolerance, v.kv_dtype);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Variants, CudaLlamaForwardTest,
    ::testing::Values(
        Variant{"LlamaGqaUntied", {"--dtype", "bf16"}},
        Variant{"Llama3RopeScaling",
                {"--dtype", "bf16", "--rope-theta", "500000", "--rope-scaling",
                 R"({"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,)"
                 R"( "high_freq_factor": 4.0, "original_max_position_embeddings": 32})"}},
        Variant{
            "YarnRope",
            {"--dtype", "bf16", "--rope-theta", "1000", "--rope-scaling",
             R"({"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 32})"}},
        Variant{"Qwen2BiasTied",
                {"--dtype", "bf16", "--model-type", "qwen2", "--tie-word-embeddings", "1"}},
        Variant{"Qwen3QkNormHeadDim32F16",
                {"--model-type", "qwen3", "--head-dim", "32", "--dtype", "f16"},
                DType::kF16},
        Variant{"LlamaBiasesMha",
                {"--dtype", "bf16", "--attention-bias", "1", "--mlp-bias", "1", "--heads", "8",
                 "--kv-heads", "8"}},
        Variant{"MistralSlidingWindowMqa",
                {"--dtype", "bf16", "--model-type", "mistral", "--sliding-window", "21",
                 "--kv-heads", "1"}},
        Variant{"Qwen2SlidingWindowUpperLayers",
                {"--dtype", "bf16", "--model-type", "qwen2", "--layers", "3", "--sliding-window",
                 "9", "--max-window-layers", "1"}}),
    [](const ::testing::TestParamInfo<Variant>& info) { return info.param.name; });

// An F32 checkpoint is uploaded as bfloat16 (--dtype auto on the GPU) and greedy decoding
// follows the CPU model's tokens (the CPU computing with the same bfloat16 weights).
TEST_F(CudaTest, GreedyContinuationFollowsTheCpu) {
  TempDir dir;
  ASSERT_TRUE(MakeLlamaModel(dir.path() / "model", {"--model-type", "qwen3", "--head-dim", "32"}));
  auto cpu = LoadModel(dir.path() / "model", {.num_threads = 2, .dtype = DType::kBF16});
  auto gpu = LoadModel(dir.path() / "model", Cuda());
  ASSERT_TRUE(cpu.ok()) << cpu.status().ToString();
  ASSERT_TRUE(gpu.ok()) << gpu.status().ToString();
  EXPECT_EQ((*gpu)->weight_dtype(), DType::kBF16);
  const std::vector<int32_t> prompt = RandomTokens(11, kVocab, 9);
  const auto want = testing::GreedyContinuation(**cpu, prompt, 12, DType::kBF16);
  const auto got = testing::GreedyContinuation(**gpu, prompt, 12, DType::kBF16);
  // Near-ties may flip under different rounding; the first tokens must agree.
  ASSERT_GE(got.size(), 4u);
  EXPECT_EQ(std::vector<int32_t>(got.begin(), got.begin() + 4),
            std::vector<int32_t>(want.begin(), want.begin() + 4));
}

// Logits of a sequence alone and within a batch of others agree (batch invariance up to
// the GEMMs' choice of algorithm per row count).
TEST_F(CudaTest, AloneMatchesBatched) {
  TempDir dir;
  ASSERT_TRUE(MakeLlamaModel(dir.path() / "model", {"--dtype", "bf16", "--kv-heads", "2"}));
  auto model = LoadModel(dir.path() / "model", Cuda());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  Model& m = **model;
  const int vocab = m.config().vocab_size;
  std::vector<std::vector<int32_t>> prompts = {
      RandomTokens(37, kVocab, 1), RandomTokens(5, kVocab, 2), RandomTokens(20, kVocab, 3)};
  std::vector<std::vector<int32_t>> tables = {{0, 1, 2}, {3}, {4, 5}};
  auto kv = m.NewKvCache(8, 16, DType::kBF16);
  ASSERT_NE(kv, nullptr);
  std::vector<std::vector<float>> alone(prompts.size());
  for (size_t s = 0; s < prompts.size(); ++s) {
    SequenceChunk chunk{prompts[s], 0, tables[s]};
    ASSERT_TRUE(m.Forward({{chunk}}, *kv, &alone[s]).ok());
  }
  Batch batch;
  for (size_t s = 0; s < prompts.size(); ++s) batch.sequences.push_back({prompts[s], 0, tables[s]});
  std::vector<float> together;
  ASSERT_TRUE(m.Forward(batch, *kv, &together).ok());
  ASSERT_EQ(together.size(), prompts.size() * vocab);
  for (size_t s = 0; s < prompts.size(); ++s) {
    const double err = testing::RelativeError(together.data() + s * vocab, alone[s].data(), vocab);
    EXPECT_LE(err, 1e-2) << "sequence " << s;
  }
  ASSERT_TRUE(m.LastForwardDeviceSeconds().has_value());
  EXPECT_GT(*m.LastForwardDeviceSeconds(), 0.0);
}

// Decode batches replayed by CUDA graphs (3 sequences padded to 4, 5 padded to 8) give the
// logits of eager steps, across block boundaries and with the engine's pool sizing.
TEST_F(CudaTest, GraphDecodeMatchesEager) {
  TempDir dir;
  ASSERT_TRUE(MakeLlamaModel(dir.path() / "model", {"--dtype", "bf16", "--kv-heads", "2"}));
  auto eager = LoadModel(dir.path() / "model", Cuda());
  auto graphs = LoadModel(dir.path() / "model", Cuda(std::nullopt, /*eager=*/false));
  ASSERT_TRUE(eager.ok()) << eager.status().ToString();
  ASSERT_TRUE(graphs.ok()) << graphs.status().ToString();
  const Model::EngineLimits limits{.max_num_seqs = 8,
                                   .max_num_batched_tokens = 64,
                                   .max_model_len = 128,
                                   .block_size = 16,
                                   .kv_dtype = DType::kBF16};
  auto budget = (*graphs)->ReserveDeviceMemory(limits);
  ASSERT_TRUE(budget.ok()) << budget.status().ToString();
  ASSERT_TRUE(budget->has_value());
  EXPECT_GT(**budget, 0);
  const int blocks = 64;
  auto kv_eager = (*eager)->NewKvCache(blocks, 16, DType::kBF16);
  auto kv_graphs = (*graphs)->NewKvCache(blocks, 16, DType::kBF16);
  ASSERT_TRUE(kv_eager && kv_graphs);
  auto captured = (*graphs)->PrepareSteps(*kv_graphs);
  ASSERT_TRUE(captured.ok()) << captured.status().ToString();
  EXPECT_EQ(*captured, 4);  // 1, 2, 4, 8
  const int vocab = (*eager)->config().vocab_size;
  for (int num_seqs : {3, 5}) {
    SCOPED_TRACE(std::to_string(num_seqs) + " sequences");
    std::vector<std::vector<int32_t>> tokens, tables;
    for (int s = 0; s < num_seqs; ++s) {
      tokens.push_back(RandomTokens(14 + s, kVocab, 20 + s));
      tables.push_back({s * 3, s * 3 + 1, s * 3 + 2});
    }
    // Prefill eagerly on both, then decode 6 steps (crossing position 16).
    auto step = [&](Model& m, KvCache& kv, bool prefill, std::vector<float>* logits) {
      Batch batch;
      for (int s = 0; s < num_seqs; ++s) {
        const int n = static_cast<int>(tokens[s].size());
        const int start = prefill ? 0 : n - 1;
        batch.sequences.push_back(
            {std::span<const int32_t>(tokens[s]).subspan(start), start, tables[s]});
      }
      return m.Forward(batch, kv, logits);
    };
    std::vector<float> a, b;
    ASSERT_TRUE(step(**eager, *kv_eager, true, &a).ok());
    ASSERT_TRUE(step(**graphs, *kv_graphs, true, &b).ok());
    for (int t = 0; t < 6; ++t) {
      for (int s = 0; s < num_seqs; ++s) {
        const auto row = a.begin() + s * vocab;
        tokens[s].push_back(static_cast<int32_t>(std::max_element(row, row + vocab) - row));
      }
      ASSERT_TRUE(step(**eager, *kv_eager, false, &a).ok());
      ASSERT_TRUE(step(**graphs, *kv_graphs, false, &b).ok());
      ASSERT_EQ(a.size(), b.size());
      ASSERT_EQ(a.size(), static_cast<size_t>(num_seqs * vocab));
      for (int s = 0; s < num_seqs; ++s) {
        EXPECT_LE(testing::RelativeError(b.data() + s * vocab, a.data() + s * vocab, vocab), 1e-2)
            << "step " << t << " sequence " << s;
      }
    }
  }
}

// A KV cache on the CPU is refused by the GPU model, and the other way round.
TEST_F(CudaTest, CachesStayOnTheirDevice) {
  TempDir dir;
  ASSERT_TRUE(MakeLlamaModel(dir.path() / "model", {"--dtype", "bf16"}));
  auto cpu = LoadModel(dir.path() / "model", {.num_threads = 2});
  auto gpu = LoadModel(dir.path() / "model", Cuda());
  ASSERT_TRUE(cpu.ok() && gpu.ok());
  auto cpu_kv = (*cpu)->NewKvCache(2, 16, DType::kBF16);
  auto gpu_kv = (*gpu)->NewKvCache(2, 16, DType::kBF16);
  const std::vector<int32_t> tokens = {1, 2, 3}, table = {0};
  std::vector<float> logits;
  EXPECT_FALSE((*gpu)->Forward({{{tokens, 0, table}}}, *cpu_kv, &logits).ok());
  EXPECT_FALSE((*cpu)->Forward({{{tokens, 0, table}}}, *gpu_kv, &logits).ok());
  // float32 weights or KV are refused on the GPU with a sentence.
  auto f32 = LoadModel(dir.path() / "model", Cuda(DType::kF32));
  ASSERT_FALSE(f32.ok());
  EXPECT_NE(f32.status().message().find("bfloat16 or float16"), std::string::npos);
}

}  // namespace
}  // namespace lantern::model
