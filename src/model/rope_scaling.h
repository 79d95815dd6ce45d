// RoPE frequencies of a Llama-family config: rope_theta and rope_scaling (`linear`,
// `dynamic`, `llama3`, `yarn`), computed as transformers' ROPE_INIT_FUNCTIONS do.
//
// `dynamic` (NTK): transformers recomputes the base whenever a sequence outgrows
// max_position_embeddings, so its rotation depends on the cache's history (keys keep the
// base in force when they were computed). A paged cache shared by many sequences needs a
// rotation that depends on the position only, so Lantern does what vLLM does: one base,
// transformers' formula evaluated at seq_len = factor * max_position_embeddings, and a
// context of that length. It equals transformers for a sequence of exactly that length.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/config.h"

namespace lantern::model {

struct RopeParameters {
  std::string type = "default";   // default, linear, dynamic, llama3, yarn
  std::vector<double> inv_freq;   // head_dim / 2 frequencies
  double attention_factor = 1.0;  // multiplies cos and sin (YaRN's mscale)
  // Positions the model accepts: max_position_embeddings, extended as vLLM derives its
  // max_model_len (linear and dynamic: times factor; yarn: original * factor if larger).
  int64_t max_positions = 0;
};

// Errors name config.json's rope_scaling field and the unsupported type or missing key.
Result<RopeParameters> ComputeRopeParameters(const ModelConfig& config);

}  // namespace lantern::model
