// Shared by the Llama-family and GPT-2 forward tests: running a numpy reference of
// tests/fixtures over whole sequences, and driving a model through mixed prefill/decode
// batches over shuffled KV blocks while comparing every returned logits row.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "model/model.h"
#include "opt_test_util.h"

namespace lantern::model::testing {

// Runs `script` (same command line and outputs as opt_reference.py) plus `extra` flags.
inline Reference RunReference(const std::string& script, const std::filesystem::path& model_dir,
                              const std::filesystem::path& out_dir,
                              const std::vector<std::vector<int32_t>>& sequences, int greedy = 0,
                              std::vector<std::string> extra = {}) {
  std::string joined;
  for (size_t i = 0; i < sequences.size(); ++i) {
    if (i > 0) joined += ';';
    joined += JoinIds(sequences[i]);
  }
  std::vector<std::string> args = {
      "--model", model_dir.string(), "--sequences", joined,
      "--out",   out_dir.string(),   "--greedy",    std::to_string(greedy)};
  args.insert(args.end(), extra.begin(), extra.end());
  Reference ref;
  if (!RunFixture(script, args)) {
    ADD_FAILURE() << script << " failed";
    return ref;
  }
  for (size_t i = 0; i < sequences.size(); ++i) {
    std::string bytes = ReadFile(out_dir / ("logits_" + std::to_string(i) + ".f32"));
    std::vector<float> logits(bytes.size() / sizeof(float));
    std::memcpy(logits.data(), bytes.data(), logits.size() * sizeof(float));
    ref.logits.push_back(std::move(logits));
    if (greedy > 0) {
      std::vector<int32_t> ids;
      std::stringstream text(ReadFile(out_dir / ("greedy_" + std::to_string(i) + ".txt")));
      for (std::string id; std::getline(text, id, ',');) ids.push_back(std::stoi(id));
      ref.greedy.push_back(std::move(ids));
    }
  }
  return ref;
}

struct SequencePlan {
  std::vector<int32_t> tokens;
  int first_step;
  std::vector<int> chunks;  // sizes, summing to tokens.size()
};

// Six sequences (at most 128 positions) arriving at different steps: chunked prefills,
// single-token steps, a sequence that fills every position, and sequences started after
// others finished (reusing their freed blocks).
inline std::vector<SequencePlan> MixedPlans(int vocab) {
  return {
      {RandomTokens(100, vocab, 1), 0, {13, 40, 7, 1, 1, 1, 37}},
      {RandomTokens(9, vocab, 2), 0, {9}},
      {RandomTokens(60, vocab, 3), 1, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 50}},
      {RandomTokens(128, vocab, 4), 2, {64, 64}},
      {RandomTokens(30, vocab, 5), 3, {30}},
      {RandomTokens(5, vocab, 6), 4, {1, 1, 1, 1, 1}},
  };
}

// Runs the plans step by step and checks every returned logits row against the
// reference (max |diff| / max |want| per row <= tolerance). Sequences take turns asking
// for all, the last or no logits.
// The cache holds K/V in kv_dtype (the reference must round them the same way).
inline void RunAndCompare(Model& model, int block_size, int num_blocks,
                          const std::vector<SequencePlan>& plans, const Reference& ref,
                          double tolerance, DType kv_dtype = DType::kF32) {
  auto kv = model.NewKvCache(num_blocks, block_size, kv_dtype);
  ShuffledBlockPool blocks(num_blocks, 11);
  const int vocab = model.config().vocab_size;
  std::vector<size_t> next_chunk(plans.size(), 0);
  std::vector<int32_t> done(plans.size(), 0);
  std::vector<std::vector<int32_t>> tables(plans.size());
  int rows_checked = 0, rows_beyond_tolerance = 0;
  double worst = 0;
  const double bound = InputRoundingTolerance(model, tolerance);
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
        ASSERT_LE(static_cast<size_t>(pos + 1) * vocab, ref.logits[s].size());
        const double err = RelativeError(logits.data() + row * vocab,
                                         ref.logits[s].data() + int64_t{pos} * vocab, vocab);
        worst = std::max(worst, err);
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
  EXPECT_LE(rows_beyond_tolerance, RowsAllowedBeyondTolerance(model, rows_checked))
      << "rows beyond " << tolerance << ": only input-rounding flips may be, and they are rare";
  std::printf("  %d rows checked, worst relative error %.3g, %d beyond %.3g\n", rows_checked, worst,
              rows_beyond_tolerance, tolerance);
}

// Greedy decoding of `prompt` with a chunked prefill (4 tokens, then the rest) and one
// token per step, over blocks {5, 2, 7, 0}; returns the `steps` generated ids.
inline std::vector<int32_t> GreedyContinuation(Model& model, const std::vector<int32_t>& prompt,
                                               int steps, DType kv_dtype = DType::kF32) {
  auto kv = model.NewKvCache(8, 16, kv_dtype);
  std::vector<int32_t> table = {5, 2, 7, 0};
  std::vector<int32_t> tokens = prompt;
  std::vector<int32_t> generated;
  std::vector<float> logits;
  const int vocab = model.config().vocab_size;
  const int first = 4, rest = static_cast<int>(prompt.size()) - first;
  SequenceChunk head{std::span<const int32_t>(tokens).subspan(0, first), 0, table,
                     SequenceChunk::Logits::kNone};
  EXPECT_TRUE(model.Forward({{head}}, *kv, &logits).ok());
  SequenceChunk tail{std::span<const int32_t>(tokens).subspan(first, rest), first, table};
  EXPECT_TRUE(model.Forward({{tail}}, *kv, &logits).ok());
  int done = static_cast<int>(prompt.size());
  for (int step = 0; step < steps; ++step) {
    if (logits.size() != static_cast<size_t>(vocab)) {
      ADD_FAILURE() << "expected one row of logits";
      break;
    }
    const int32_t next =
        static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    generated.push_back(next);
    tokens.push_back(next);
    SequenceChunk seq{std::span<const int32_t>(tokens).subspan(done, 1), done, table};
    EXPECT_TRUE(model.Forward({{seq}}, *kv, &logits).ok());
    ++done;
  }
  return generated;
}

}  // namespace lantern::model::testing
