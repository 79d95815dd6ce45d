// Token sampling from one row of logits, in vLLM V1's order: raw logprobs first; then
// min_tokens masking, logit bias and penalties (these also steer greedy decoding); then
// temperature, min_p, top_k and top_p; then one uniform draw from the sequence's own
// generator, so a seeded sequence samples the same tokens whatever else is in the batch.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "engine/request.h"
#include "engine/sampling_params.h"

namespace lantern::engine {

// xoshiro256** seeded through splitmix64: small, fast, and the same on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed = 0);
  uint64_t Next();
  double Uniform();  // in [0, 1), 53 bits

 private:
  uint64_t s_[4];
};

// The sampling state of one output sequence.
struct SamplingState {
  SamplingState(const SamplingParams& params, uint64_t seed, std::span<const int32_t> prompt,
                const std::vector<int32_t>& eos_token_ids);

  // Records a generated token (for penalties and min_tokens).
  void Append(int32_t token);

  const SamplingParams* params;
  Rng rng;
  std::vector<int32_t> prompt_tokens;  // sorted, unique (repetition penalty)
  std::unordered_map<int32_t, int> output_counts;
  int num_output = 0;
  std::vector<int32_t> min_tokens_blocked;  // EOS (unless ignore_eos) and stop_token_ids
  // Guided decoding (params.grammar set): the sequence's own matcher, advanced by Append.
  std::optional<grammar::Matcher> matcher;
  std::vector<int32_t> eos_token_ids;  // allowed where the grammar may end
};

struct SampleResult {
  int32_t token = 0;
  std::optional<PositionLogprobs> logprobs;  // when params.logprobs is set
};

class Sampler {
 public:
  explicit Sampler(int vocab_size);

  // With a grammar, tokens it forbids are masked out first (logprobs then describe the
  // masked distribution, as vLLM's do).
  SampleResult Sample(const float* logits, SamplingState& state);

  // Seconds spent computing and applying grammar masks since the last call.
  double TakeMaskSeconds() {
    const double s = mask_s_;
    mask_s_ = 0;
    return s;
  }

  // Logprobs of `chosen` and the top `top_n` tokens of a raw logits row.
  PositionLogprobs Logprobs(const float* logits, int32_t chosen, int top_n) const;

  int vocab_size() const { return vocab_size_; }

 private:
  // Applies min_tokens, logit bias and penalties into work_; returns the row to sample from.
  const float* Process(const float* logits, const SamplingState& state);
  int32_t SampleRandom(const float* x, SamplingState& state);
  // The row with the grammar's forbidden tokens at -inf (in masked_), or nullptr when the
  // grammar allows nothing at all.
  const float* ApplyGrammar(const float* logits, SamplingState& state);
  // Zeroes probs_ outside the top-p nucleus of the kept mass `total`; returns the new total.
  double ApplyTopP(double total, double top_p);

  int vocab_size_;
  std::vector<float> work_;
  std::vector<float> probs_;
  std::vector<float> scratch_;
  std::vector<std::pair<float, int32_t>> candidates_;
  std::vector<double> bucket_mass_;
  std::vector<uint32_t> mask_bits_;
  std::vector<float> masked_;
  double mask_s_ = 0;
};

// exp(x) to ~1e-7 relative error, 0 for x below -87 (so -inf gives 0). Inline so that
// loops over a vocabulary vectorize.
inline float FastExp(float x) {
  const float clamped = std::min(std::max(x, -87.0f), 88.0f);
  // Round to nearest by adding and removing 1.5 * 2^23 (vectorizes, unlike floor).
  const float n = (clamped * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  // Cody-Waite: ln 2 split in a part exact in float and a small rest.
  const float r = clamped - n * 0.693145751953125f - n * 1.428606765330187e-06f;
  const float p =
      1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 +
                                          r * (1.0f / 24 + r * (1.0f / 120 + r * (1.0f / 720))))));
  const float scale = std::bit_cast<float>((static_cast<int32_t>(n) + 127) << 23);
  return x < -87.0f ? 0.0f : p * scale;
}
// Index of the largest value (the first one on ties); NaNs are skipped.
int32_t Argmax(const float* x, int n);

}  // namespace lantern::engine
