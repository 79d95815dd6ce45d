// The Llama family from one implementation driven by config.json, as transformers defines
// LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM and Qwen3ForCausalLM (Llama 2/3/
// 3.1/3.2, Mistral, Qwen2/2.5/3, SmolLM, TinyLlama): RMSNorm, rotary embeddings with
// rope_theta and rope_scaling (model/rope_scaling.h), grouped-query attention, SwiGLU,
// q/k/v biases (Qwen2, attention_bias), per-head q/k RMSNorm (Qwen3), head_dim independent
// of hidden_size / heads, tied or separate LM head, Mistral's sliding window (Qwen's with
// use_sliding_window, on layers >= max_window_layers).
#pragma once

#include <cstdint>
#include <memory>

#include "base/status.h"
#include "model/config.h"
#include "model/model.h"
#include "model/weights.h"

namespace lantern::model {

// Builds a Llama-family model from a parsed config and its checkpoint (F32/F16/BF16
// weights, converted to F32). Errors name missing tensors and unsupported settings.
Result<std::unique_ptr<Model>> LoadLlamaModel(const ModelConfig& config, const WeightStore& weights,
                                              const LoadOptions& options);

// The shape of HuggingFaceTB/SmolLM-135M (30 layers, hidden 576, 9 heads over 3 KV heads,
// FFN 1536, vocab 49152, tied), the benchmarks' Llama-family model.
ModelConfig SmolLm135mShapeConfig();

// A model of that family with random weights, built in memory: for benchmarks.
Result<std::unique_ptr<Model>> NewRandomLlamaModel(const ModelConfig& config, uint64_t seed,
                                                   const LoadOptions& options);

}  // namespace lantern::model
