// OPT logits against the independent numpy reference (tests/fixtures/opt_reference.py)
// over the whole HF OPT family's switches, through the paged KV cache as the engine
// drives it: prefill chunks and decode tokens of several sequences in one batch, block
// tables shuffled and blocks reused after a sequence finishes.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "model/model.h"
#include "opt_test_util.h"

namespace lantern::model {
namespace {

using testing::MakeOptModel;
using testing::RandomTokens;
using testing::RelativeError;
using testing::RunOptReference;
using testing::ShuffledBlockPool;
using testing::TempDir;

constexpr double kTolerance = 1e-4;
// With a 16-bit KV cache: Lantern rounds its fp32 K and V, the reference its float64 ones, so
// a value that lies within fp32's error of a rounding midpoint lands one 16-bit step (2^-8
// relative for bfloat16) apart; a few such elements move the logits by up to ~1e-4.
constexpr double kKvTolerance = 3e-4;
constexpr int kVocab = 512;  // the tiny preset

struct SequencePlan {
  std::vector<int32_t> tokens;
  int first_step;
  std::vector<int> chunks;  // sizes, summing to tokens.size()
};

// Six sequences of the tiny model (max 128 positions) arriving at different steps:
// chunked prefills, single-token steps, a sequence that fills every position, and
// sequences started after others finished (reusing their freed blocks).
std::vector<SequencePlan> MixedPlans() {
  return {
      {RandomTokens(100, kVocab, 1), 0, {13, 40, 7, 1, 1, 1, 37}},
      {RandomTokens(9, kVocab, 2), 0, {9}},
      {RandomTokens(60, kVocab, 3), 1, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 50}},
      {RandomTokens(128, kVocab, 4), 2, {64, 64}},
      {RandomTokens(30, kVocab, 5), 3, {30}},
      {RandomTokens(5, kVocab, 6), 4, {1, 1, 1, 1, 1}},
  };
}

// Runs the plans step by step and checks every returned logits row. Sequences take
// turns asking for all, the last or no logits.
void RunAndCompare(Model& model, int block_size, int num_blocks,
                   const std::vector<SequencePlan>& plans, const testing::Reference& ref,
                   DType kv_dtype) {
  auto kv = model.NewKvCache(num_blocks, block_size, kv_dtype);
  ShuffledBlockPool blocks(num_blocks, 11);
  const int vocab = model.config().vocab_size;
  std::vector<size_t> next_chunk(plans.size(), 0);
  std::vector<int32_t> done(plans.size(), 0);
  std::vector<std::vector<int32_t>> tables(plans.size());
  int rows_checked = 0, rows_beyond_tolerance = 0;
  const double tolerance = kv_dtype == DType::kF32 ? kTolerance : kKvTolerance;
  const double bound = testing::InputRoundingTolerance(model, tolerance);
  for (int step = 0;; ++step) {
    Batch batch;
    std::vector<size_t> members;
    for (size_t s = 0; s < plans.size(); ++s) {
      if (step < plans[s].first_step || next_chunk[s] == plans[s].chunks.size()) continue;
      const int n = plans[s].chunks[next_chunk[s]];
      blocks.Cover(tables[s], done[s] + n, block_size);
      SequenceChunk chunk;
      chunk.tokens = std::span<const int32_t>(plans[s].tokens).subspan(done[s], n);
      chunk.start_position = done[s];
      chunk.block_table = tables[s];
      chunk.logits = static_cast<SequenceChunk::Logits>((step + s) % 3);
      batch.sequences.push_back(chunk);
      members.push_back(s);
    }
    if (members.empty()) break;
    std::vector<float> logits;
    Status status = model.Forward(batch, *kv, &logits);
    ASSERT_TRUE(status.ok()) << status.ToString();
    size_t row = 0;
    for (size_t i = 0; i < members.size(); ++i) {
      const size_t s = members[i];
      const SequenceChunk& chunk = batch.sequences[i];
      const int n = static_cast<int>(chunk.tokens.size());
      int first = n;
      if (chunk.logits == SequenceChunk::Logits::kAll) first = 0;
      if (chunk.logits == SequenceChunk::Logits::kLast) first = n - 1;
      for (int t = first; t < n; ++t, ++row) {
        const int pos = done[s] + t;
        ASSERT_LE((row + 1) * vocab, logits.size());
        const double err = RelativeError(logits.data() + row * vocab,
                                         ref.logits[s].data() + int64_t{pos} * vocab, vocab);
        ASSERT_LE(err, bound) << "sequence " << s << " position " << pos << " step " << step;
        rows_beyond_tolerance += err > tolerance;
        ++rows_checked;
      }
      done[s] += n;
      if (++next_chunk[s] == plans[s].chunks.size()) blocks.Release(tables[s]);
    }
    EXPECT_EQ(row * vocab, logits.size());
  }
  EXPECT_GT(rows_checked, 60);
  EXPECT_LE(rows_beyond_tolerance, testing::RowsAllowedBeyondTolerance(model, rows_checked))
      << "rows beyond " << tolerance << ": only input-rounding flips may be, and they are rare";
}

struct Variant {
  const char* name;
  std::vector<std::string> flags;
  std::vector<int> block_sizes = {16};
  std::optional<DType> dtype = std::nullopt;  // LoadOptions::dtype (--dtype)
  Quantization quantization = Quantization::kNone;
  DType kv_dtype = DType::kF32;  // the KV cache's type (--kv-cache-dtype)
};

class OptForwardTest : public ::testing::TestWithParam<Variant> {};

TEST_P(OptForwardTest, MixedBatchesMatchReference) {
  const Variant& v = GetParam();
  TempDir dir;
  ASSERT_TRUE(MakeOptModel(dir.path() / "model", v.flags));
  auto plans = MixedPlans();
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
  testing::Reference ref =
      RunOptReference(dir.path() / "model", dir.path() / "ref", sequences, 0, reference_flags);
  ASSERT_EQ(ref.logits.size(), plans.size());
  for (int block_size : v.block_sizes) {
    SCOPED_TRACE("block size " + std::to_string(block_size));
    const int num_blocks = 2 * 330 / block_size + 8;  // ~2x the peak need: blocks get reused
    RunAndCompare(**model, block_size, num_blocks, plans, ref, v.kv_dtype);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Family, OptForwardTest,
    ::testing::Values(
        // Each checkpoint generation costs a torch import, so switches are combined.
        Variant{"PreNormF32", {}, {16, 4, 32}},
        Variant{"PostNormProjected",  // facebook/opt-350m's shape
                {"--do-layer-norm-before", "0", "--word-embed-proj-dim", "32"}},
        Variant{
            "ProjectedNoBiasUntied",
            {"--word-embed-proj-dim", "48", "--enable-bias", "0", "--tie-word-embeddings", "0"}},
        Variant{"PostNormNoAffine",
                {"--do-layer-norm-before", "0", "--layer-norm-elementwise-affine", "0"}},
        Variant{"NoAffineF16", {"--layer-norm-elementwise-affine", "0", "--dtype", "f16"}},
        Variant{"PytorchBinBF16", {"--format", "bin", "--bin-prefix", "none", "--dtype", "bf16"}},
        Variant{"ShardedSafetensors", {"--format", "sharded"}},
        // F32 checkpoints served in 16 bits, against the reference with the same rounding.
        Variant{
            "F32ServedAsBFloat16Projected", {"--word-embed-proj-dim", "32"}, {16, 4}, DType::kBF16},
        Variant{"F32ServedAsFloat16Untied", {"--tie-word-embeddings", "0"}, {16}, DType::kF16},
        Variant{"Int8TiedProjected",
                {"--word-embed-proj-dim", "48"},
                {16},
                std::nullopt,
                Quantization::kInt8},
        Variant{
            "Int8Untied", {"--tie-word-embeddings", "0"}, {16}, std::nullopt, Quantization::kInt8},
        // 16-bit KV caches (--kv-cache-dtype): the reference rounds K and V after their
        // projections to the same type.
        Variant{"KvBFloat16PostNorm",
                {"--do-layer-norm-before", "0"},
                {16, 4, 32},
                std::nullopt,
                Quantization::kNone,
                DType::kBF16},
        Variant{"KvFloat16WeightsFloat16",
                {"--dtype", "f16"},
                {16, 4},
                std::nullopt,
                Quantization::kNone,
                DType::kF16},
        Variant{"KvBFloat16Int8",
                {"--word-embed-proj-dim", "48"},
                {16},
                std::nullopt,
                Quantization::kInt8,
                DType::kBF16}),
    [](const ::testing::TestParamInfo<Variant>& info) { return info.param.name; });

// Greedy decoding with a chunked prompt and one token per step matches the reference
// token for token.
TEST(OptGreedyTest, ContinuationMatchesReference) {
  for (const char* pre_norm : {"1", "0"}) {
    TempDir dir;
    ASSERT_TRUE(
        MakeOptModel(dir.path() / "model", {"--do-layer-norm-before", pre_norm, "--seed", "3"}));
    std::vector<int32_t> prompt = RandomTokens(11, kVocab, 9);
    prompt[0] = 2;  // </s> starts OPT prompts
    const int steps = 16;
    testing::Reference ref =
        RunOptReference(dir.path() / "model", dir.path() / "ref", {prompt}, steps);
    ASSERT_EQ(ref.greedy.size(), 1u);
    auto model = LoadModel(dir.path() / "model", {.num_threads = 2});
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    auto kv = (*model)->NewKvCache(8, 16, DType::kF32);
    std::vector<int32_t> table = {5, 2};
    std::vector<int32_t> tokens = prompt;
    std::vector<int32_t> generated;
    int done = 0;
    std::vector<float> logits;
    const int vocab = (*model)->config().vocab_size;
    for (int chunk : {4, 7}) {  // chunked prefill; only the last chunk asks for logits
      SequenceChunk seq{std::span<const int32_t>(tokens).subspan(done, chunk), done, table,
                        chunk == 4 ? SequenceChunk::Logits::kNone : SequenceChunk::Logits::kLast};
      ASSERT_TRUE((*model)->Forward({{seq}}, *kv, &logits).ok());
      done += chunk;
    }
    for (int step = 0; step < steps; ++step) {
      ASSERT_EQ(logits.size(), static_cast<size_t>(vocab));
      const int32_t next =
          static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
      generated.push_back(next);
      tokens.push_back(next);
      SequenceChunk seq{std::span<const int32_t>(tokens).subspan(done, 1), done, table};
      ASSERT_TRUE((*model)->Forward({{seq}}, *kv, &logits).ok());
      ++done;
    }
    EXPECT_EQ(generated, ref.greedy[0]) << "do_layer_norm_before=" << pre_norm;
  }
}

}  // namespace
}  // namespace lantern::model
