// Helpers for the OPT forward tests: checkpoints from tests/fixtures/make_opt_model.py,
// expected logits from the independent numpy reference tests/fixtures/opt_reference.py,
// and a small block allocator standing in for the engine's.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "loader_test_util.h"

namespace lantern::model::testing {

inline std::string JoinIds(const std::vector<int32_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) s += ',';
    s += std::to_string(ids[i]);
  }
  return s;
}

// Runs tests/fixtures/<script> with /usr/bin/python3; true when it exits with status 0.
// (Built by appending: GCC 12 reports a false -Wrestrict on `" " + std::string`.)
inline bool RunFixture(const std::string& script, const std::vector<std::string>& args) {
  std::string command = LANTERN_PYTHON;
  command += ' ';
  command += ShellQuote(std::string(LANTERN_SOURCE_DIR) + "/tests/fixtures/" + script);
  for (const auto& arg : args) {
    command += ' ';
    command += ShellQuote(arg);
  }
  return std::system(command.c_str()) == 0;
}

// Writes a tiny random OPT checkpoint into `dir` (seed 7 unless `flags` says otherwise).
inline bool MakeOptModel(const std::filesystem::path& dir, std::vector<std::string> flags) {
  std::vector<std::string> args = {"--out", dir.string(), "--seed", "7", "--preset", "tiny"};
  args.insert(args.end(), flags.begin(), flags.end());
  return RunFixture("make_opt_model.py", args);
}

struct Reference {
  std::vector<std::vector<float>> logits;  // per sequence: [len][vocab]
  std::vector<std::vector<int32_t>> greedy;
};

// Runs the numpy reference over whole sequences (plain causal mask, no cache).
inline Reference RunOptReference(const std::filesystem::path& model_dir,
                                 const std::filesystem::path& out_dir,
                                 const std::vector<std::vector<int32_t>>& sequences, int greedy = 0,
                                 std::vector<std::string> extra_flags = {}) {
  std::string joined;
  for (size_t i = 0; i < sequences.size(); ++i) {
    if (i > 0) joined += ';';
    joined += JoinIds(sequences[i]);
  }
  Reference ref;
  std::vector<std::string> args = {
      "--model", model_dir.string(), "--sequences", joined,
      "--out",   out_dir.string(),   "--greedy",    std::to_string(greedy)};
  args.insert(args.end(), extra_flags.begin(), extra_flags.end());
  if (!RunFixture("opt_reference.py", args)) {
    ADD_FAILURE() << "opt_reference.py failed";
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

// A model served in bfloat16 (not int8) rounds the inputs of its linear layers to bfloat16
// too (tensor/gemm16.h), and the reference does the same given --dtype bfloat16. Lantern
// rounds fp32 activations, the reference float64 ones, so an activation within fp32's error
// of a rounding midpoint lands one bfloat16 step (2^-8) apart; at every layer of these tiny
// models a few such flips move the logits by up to ~4e-3 of their largest (without the
// rounding in the reference the distance is larger, see tensor_gemm16_test for the exact check).
constexpr double kBf16InputTolerance = 6e-3;

inline bool RoundsInputsToBf16(const Model& model) {
  return model.weight_dtype() == DType::kBF16 && !model.int8_weights();
}

// Against int8 weights the inputs are quantized to int8 blocks (tensor/gemm8.h), in the
// reference too; the same flips as above move an input by one step of its block's grid (1/127
// of the block's largest), and the tiny models' logits by up to ~1.2e-2 of their largest.
constexpr double kInt8InputTolerance = 2e-2;

// The bound on every row against the reference for `model`: that of its input rounding, else
// `otherwise`.
inline double InputRoundingTolerance(const Model& model, double otherwise) {
  if (model.int8_weights()) return kInt8InputTolerance;
  return RoundsInputsToBf16(model) ? kBf16InputTolerance : otherwise;
}

// How many of `rows` may be beyond `otherwise`: with int8 weights the products are exact
// integer sums, so only rows downstream of a flip may (a flip in a K or V input reaches the
// later positions too: up to ~1 row in 10 here; 1 in 4 allowed), while without the rounding
// in the reference most rows miss, by 1e-3 to 1e-2. The
// bfloat16 products keep the looser bound alone (oneDNN's bf16 prefill sums in its own order).
inline int RowsAllowedBeyondTolerance(const Model& model, int rows) {
  return model.int8_weights() || !RoundsInputsToBf16(model) ? rows / 4 : rows;
}

// Adds --dtype bfloat16 for a checkpoint served in bfloat16 without one (auto keeps a bfloat16
// checkpoint bfloat16): the weights need no rounding, the inputs of the layers do.
inline void AddBf16InputFlag(const Model& model, std::vector<std::string>* reference_flags) {
  if (RoundsInputsToBf16(model) && std::find(reference_flags->begin(), reference_flags->end(),
                                             "--dtype") == reference_flags->end()) {
    reference_flags->insert(reference_flags->end(), {"--dtype", "bfloat16"});
  }
}

// max |got - want| / max |want| over one row of logits.
inline double RelativeError(const float* got, const float* want, int64_t n) {
  double diff = 0, scale = 0;
  for (int64_t i = 0; i < n; ++i) {
    diff = std::max(diff, std::abs(double(got[i]) - want[i]));
    scale = std::max(scale, std::abs(double(want[i])));
  }
  return diff / std::max(scale, 1e-30);
}

// Hands out KV blocks from a shuffled free list; freed blocks go to the front, so they
// are reused (with stale contents) by the next sequence that grows.
class ShuffledBlockPool {
 public:
  ShuffledBlockPool(int num_blocks, uint32_t seed) {
    for (int i = 0; i < num_blocks; ++i) free_.push_back(i);
    std::mt19937 rng(seed);
    std::shuffle(free_.begin(), free_.end(), rng);
  }
  // Grows `table` to cover `positions` tokens of `block_size`.
  void Cover(std::vector<int32_t>& table, int64_t positions, int block_size) {
    while (static_cast<int64_t>(table.size()) * block_size < positions) {
      EXPECT_FALSE(free_.empty()) << "test KV cache too small";
      table.push_back(free_.back());
      free_.pop_back();
    }
  }
  void Release(std::vector<int32_t>& table) {
    free_.insert(free_.end(), table.rbegin(), table.rend());
    table.clear();
  }

 private:
  std::vector<int32_t> free_;
};

inline std::vector<int32_t> RandomTokens(int n, int vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> dist(0, vocab - 1);
  std::vector<int32_t> ids(n);
  for (auto& id : ids) id = dist(rng);
  return ids;
}

}  // namespace lantern::model::testing
