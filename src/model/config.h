// A Hugging Face config.json, typed. One struct for every architecture Lantern runs;
// fields an architecture does not use keep their defaults.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace lantern::model {

enum class Architecture { kOpt, kGpt2, kLlama };

struct ModelConfig {
  Architecture architecture = Architecture::kOpt;
  std::string model_type;         // "opt", "gpt2", "llama", "mistral", "qwen2", ...
  std::string architecture_name;  // architectures[0], e.g. "OPTForCausalLM"
  std::string torch_dtype;        // as written in the file ("float16", "float32", ...)

  int vocab_size = 0;
  int hidden_size = 0;
  int num_hidden_layers = 0;
  int num_attention_heads = 0;
  int num_key_value_heads = 0;  // = num_attention_heads when absent
  int head_dim = 0;             // = hidden_size / num_attention_heads when absent
  int intermediate_size = 0;    // OPT: ffn_dim
  int max_position_embeddings = 0;
  bool tie_word_embeddings = true;

  std::optional<int> bos_token_id;
  std::vector<int> eos_token_ids;  // config's eos_token_id, int or list
  std::optional<int> pad_token_id;

  // OPT.
  int word_embed_proj_dim = 0;  // = hidden_size when absent
  bool do_layer_norm_before = true;
  bool enable_bias = true;
  bool layer_norm_elementwise_affine = true;
  std::string activation_function = "relu";
  // OPT-350m is post-norm and projects embeddings; HF drops the final layer norm
  // whenever do_layer_norm_before is false (configs may also say _remove_final_layer_norm).
  bool remove_final_layer_norm = false;

  // GPT-2 and others.
  double layer_norm_epsilon = 1e-5;
  bool scale_attn_weights = true;                // scores / sqrt(head_dim)
  bool scale_attn_by_inverse_layer_idx = false;  // scores / (layer index + 1)

  // Llama family (llama, mistral, qwen2, qwen3); activation_function holds hidden_act.
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  std::string rope_scaling_json;  // the "rope_scaling" object as JSON text; empty if none
  bool attention_bias = false;
  bool mlp_bias = false;
  // Mistral's sliding_window (Qwen2/3's when use_sliding_window); 0: none. It applies to
  // layers >= max_window_layers (Qwen's setting; 0 for Mistral: every layer).
  int sliding_window = 0;
  int max_window_layers = 0;
};

// Reads and validates <model_dir>/config.json. Errors name the file and the field.
Result<ModelConfig> LoadModelConfig(const std::filesystem::path& model_dir);
// Same, from JSON text (for tests and fuzzing); `source` names it in messages.
Result<ModelConfig> ParseModelConfig(const std::string& json_text, const std::string& source);

}  // namespace lantern::model
