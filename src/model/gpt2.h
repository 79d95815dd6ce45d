// GPT-2 (openai-community/gpt2 and its sizes, distilgpt2) as transformers'
// GPT2LMHeadModel defines it: learned positions, pre-layer-norm blocks, Conv1D weights
// stored [in][out] (already the layout our GEMMs want: no transpose), fused c_attn q|k|v,
// GELU with the tanh approximation, final ln_f, LM head tied to wte unless the config
// says otherwise. Checkpoints with or without the "transformer." prefix load.
#pragma once

#include <memory>

#include "base/status.h"
#include "model/config.h"
#include "model/model.h"
#include "model/weights.h"

namespace lantern::model {

Result<std::unique_ptr<Model>> LoadGpt2Model(const ModelConfig& config, const WeightStore& weights,
                                             const LoadOptions& options);

}  // namespace lantern::model
