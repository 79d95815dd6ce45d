// Sampling parameters of one request, with vLLM's names, defaults and validation rules.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "grammar/grammar.h"

namespace lantern::engine {

// Defaults a model's generation_config.json sets (vLLM's "generation config" defaults).
// Each field is set only when the file sets it.
struct GenerationDefaults {
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<int> top_k;
  std::optional<double> min_p;
  std::optional<double> repetition_penalty;
  std::optional<int> max_new_tokens;
  std::vector<int32_t> eos_token_ids;  // eos_token_id of the file, int or list

  bool empty() const {
    return !temperature && !top_p && !top_k && !min_p && !repetition_penalty && !max_new_tokens &&
           eos_token_ids.empty();
  }
};

struct SamplingParams {
  int n = 1;
  double temperature = 1.0;         // 0 (below 1e-5): greedy
  double top_p = 1.0;               // (0, 1]
  int top_k = 0;                    // -1 or 0: off
  double min_p = 0.0;               // [0, 1]
  double presence_penalty = 0.0;    // [-2, 2], on generated tokens
  double frequency_penalty = 0.0;   // [-2, 2], on generated tokens
  double repetition_penalty = 1.0;  // > 0, on prompt and generated tokens
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;
  std::vector<int32_t> stop_token_ids;
  bool ignore_eos = false;
  std::optional<int> max_tokens;  // unset: up to the context length
  int min_tokens = 0;
  std::optional<int> logprobs;           // top-N per generated token (0: only the sampled one)
  std::optional<int> prompt_logprobs;    // top-N per prompt token
  std::map<int32_t, double> logit_bias;  // token id -> bias in [-100, 100]
  bool include_stop_str_in_output = false;
  bool skip_special_tokens = true;
  // Guided decoding: only tokens this grammar allows are sampled, EOS only where it may
  // end, and the sequence stops once it is complete. Compiled by the embedder (the server).
  grammar::GrammarHandle grammar;

  // Parameters with the model's generation_config.json defaults applied, as vLLM starts
  // every request from them; a request's explicit fields then override these.
  static SamplingParams FromDefaults(const GenerationDefaults& defaults);

  bool greedy() const { return temperature < kGreedyEpsilon; }
  bool top_k_enabled() const { return top_k > 0; }

  // Checks every field; the message names the field, the value and the valid range.
  // `vocab_size` bounds token ids; `max_logprobs` bounds logprobs and prompt_logprobs.
  Status Validate(int vocab_size, int max_logprobs = 20) const;

  static constexpr double kGreedyEpsilon = 1e-5;
};

}  // namespace lantern::engine
