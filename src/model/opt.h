// The OPT family (facebook/opt-*) as Hugging Face's OPTForCausalLM defines it: learned
// positions offset by 2, pre- or post-layer-norm blocks (do_layer_norm_before),
// optional project_in/project_out when word_embed_proj_dim != hidden_size, ReLU FFN,
// optional biases (enable_bias) and layer-norm parameters
// (layer_norm_elementwise_affine), tied or separate LM head.
#pragma once

#include <cstdint>
#include <memory>

#include "base/status.h"
#include "model/config.h"
#include "model/model.h"
#include "model/weights.h"

namespace lantern::model {

// Builds an OPT model from a parsed config and its checkpoint. Weights of any stored
// dtype (F32/F16/BF16) are converted to F32 and laid out for the GEMMs; the store
// can be closed afterwards.
Result<std::unique_ptr<Model>> LoadOptModel(const ModelConfig& config, const WeightStore& weights,
                                            const LoadOptions& options);

// The shape of facebook/opt-125m (12 layers, hidden 768, FFN 3072, vocab 50272), the
// benchmarks' model.
ModelConfig Opt125mShapeConfig();

// An OPT model with random weights (uniform, std 0.02 like HF's init; layer norms
// around 1), built in memory without a checkpoint: for benchmarks of full-size shapes.
Result<std::unique_ptr<Model>> NewRandomOptModel(const ModelConfig& config, uint64_t seed,
                                                 const LoadOptions& options);

}  // namespace lantern::model
