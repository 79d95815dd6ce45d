// config.json -> ModelConfig. Field names and defaults follow transformers' config classes
// (OPTConfig, GPT2Config, LlamaConfig and its relatives); anything we cannot run is refused
// here with the file and the field, before any weight is read.
#include <algorithm>
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "base/mapped_file.h"
#include "model/config.h"
#include "model/loader_util.h"

namespace lantern::model {
namespace {

using nlohmann::json;

constexpr int64_t kMaxDim = 1 << 20;  // hidden sizes, FFN sizes, head counts
constexpr int64_t kMaxVocab = 1 << 24;
constexpr int64_t kMaxLayers = 1 << 12;
constexpr int64_t kMaxPositions = 1 << 24;
constexpr uint64_t kMaxConfigBytes = 16 << 20;

struct ArchitectureInfo {
  const char* model_type;
  const char* class_name;
  Architecture architecture;
};
constexpr ArchitectureInfo kArchitectures[] = {
    {"opt", "OPTForCausalLM", Architecture::kOpt},
    {"gpt2", "GPT2LMHeadModel", Architecture::kGpt2},
    {"llama", "LlamaForCausalLM", Architecture::kLlama},
    {"mistral", "MistralForCausalLM", Architecture::kLlama},
    {"qwen2", "Qwen2ForCausalLM", Architecture::kLlama},
    {"qwen3", "Qwen3ForCausalLM", Architecture::kLlama},
};

std::string SupportedList(bool class_names) {
  std::string out;
  for (const auto& a : kArchitectures) {
    out += (out.empty() ? "" : ", ") + std::string(class_names ? a.class_name : a.model_type);
  }
  return out;
}

// Typed access to the fields of one config object; every error names the file and field.
class Fields {
 public:
  Fields(const json& root, const std::string& source) : root_(root), source_(source) {}

  bool Has(const char* field) const {
    auto it = root_.find(field);
    return it != root_.end() && !it->is_null();
  }
  Status Error(const char* field, const std::string& problem) const {
    return InvalidArgument(source_ + ": field \"" + field + "\" " + problem);
  }

  // An integer in [min, max]; `fallback` when absent (or an error when it is required).
  Status Int(const char* field, int* out, int64_t min, int64_t max,
             std::optional<int> fallback = std::nullopt) const {
    if (!Has(field)) {
      if (!fallback) return Error(field, "is missing");
      *out = *fallback;
      return Status::Ok();
    }
    const json& v = root_.at(field);
    if (!v.is_number_integer()) return Error(field, "must be an integer, got " + v.dump());
    const bool huge = v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(max);
    if (huge || v.get<int64_t>() < min || v.get<int64_t>() > max) {
      return Error(field, "is " + v.dump() + ", expected a value in [" + std::to_string(min) +
                              ", " + std::to_string(max) + "]");
    }
    *out = static_cast<int>(v.get<int64_t>());
    return Status::Ok();
  }
  Status Bool(const char* field, bool* out) const {
    if (!Has(field)) return Status::Ok();
    const json& v = root_.at(field);
    if (!v.is_boolean()) return Error(field, "must be true or false, got " + v.dump());
    *out = v.get<bool>();
    return Status::Ok();
  }
  Status Double(const char* field, double* out, double min, double max) const {
    if (!Has(field)) return Status::Ok();
    const json& v = root_.at(field);
    if (!v.is_number()) return Error(field, "must be a number, got " + v.dump());
    double d = v.get<double>();
    if (!std::isfinite(d) || d < min || d > max) {
      return Error(field, "is " + v.dump() + ", out of range");
    }
    *out = d;
    return Status::Ok();
  }
  Status String(const char* field, std::string* out) const {
    if (!Has(field)) return Status::Ok();
    const json& v = root_.at(field);
    if (!v.is_string()) return Error(field, "must be a string, got " + v.dump());
    *out = v.get<std::string>();
    return Status::Ok();
  }
  // A token id: an integer, or null/absent.
  Status TokenId(const char* field, std::optional<int>* out) const {
    if (!Has(field)) return Status::Ok();
    int id = 0;
    LANTERN_RETURN_IF_ERROR(Int(field, &id, 0, std::numeric_limits<int>::max()));
    *out = id;
    return Status::Ok();
  }
  // eos_token_id: an integer or a list of integers.
  Status TokenIds(const char* field, std::vector<int>* out) const {
    if (!Has(field)) return Status::Ok();
    const json& v = root_.at(field);
    const json list = v.is_array() ? v : json::array({v});
    for (const json& id : list) {
      if (!id.is_number_integer() || id.get<int64_t>() < 0 ||
          id.get<int64_t>() > std::numeric_limits<int>::max()) {
        return Error(field, "must be a token id or a list of token ids, got " + v.dump());
      }
      out->push_back(static_cast<int>(id.get<int64_t>()));
    }
    return Status::Ok();
  }
  // A JSON object or null kept as text (rope_scaling: its keys vary by scaling type).
  Status RawObject(const char* field, std::string* out) const {
    if (!Has(field)) return Status::Ok();
    const json& v = root_.at(field);
    if (!v.is_object()) return Error(field, "must be an object or null, got " + v.dump());
    *out = v.dump();
    return Status::Ok();
  }

 private:
  const json& root_;
  const std::string& source_;
};

Status ParseArchitecture(const json& root, const Fields& f, ModelConfig* config) {
  if (!f.Has("model_type")) return f.Error("model_type", "is missing");
  LANTERN_RETURN_IF_ERROR(f.String("model_type", &config->model_type));
  const ArchitectureInfo* info = nullptr;
  for (const auto& a : kArchitectures) {
    if (config->model_type == a.model_type) info = &a;
  }
  if (info == nullptr) {
    return f.Error("model_type", "is " + internal::Quote(config->model_type) +
                                     ", which Lantern does not support (supported: " +
                                     SupportedList(false) + ")");
  }
  config->architecture = info->architecture;
  config->architecture_name = info->class_name;
  if (f.Has("architectures")) {
    const json& list = root.at("architectures");
    if (!list.is_array() || list.empty() || !list[0].is_string()) {
      return f.Error("architectures", "must be a non-empty list of class names");
    }
    config->architecture_name = list[0].get<std::string>();
    if (config->architecture_name != info->class_name) {
      return f.Error("architectures", "names " + internal::Quote(config->architecture_name) +
                                          ", which Lantern does not support for model_type " +
                                          internal::Quote(config->model_type) + " (expected " +
                                          info->class_name + ")");
    }
  }
  return Status::Ok();
}

Status ParseOpt(const Fields& f, ModelConfig* c) {
  LANTERN_RETURN_IF_ERROR(f.Int("vocab_size", &c->vocab_size, 1, kMaxVocab));
  LANTERN_RETURN_IF_ERROR(f.Int("hidden_size", &c->hidden_size, 1, kMaxDim));
  LANTERN_RETURN_IF_ERROR(f.Int("num_hidden_layers", &c->num_hidden_layers, 1, kMaxLayers));
  LANTERN_RETURN_IF_ERROR(f.Int("num_attention_heads", &c->num_attention_heads, 1, kMaxDim));
  LANTERN_RETURN_IF_ERROR(f.Int("ffn_dim", &c->intermediate_size, 1, kMaxDim));
  LANTERN_RETURN_IF_ERROR(
      f.Int("max_position_embeddings", &c->max_position_embeddings, 1, kMaxPositions));
  LANTERN_RETURN_IF_ERROR(
      f.Int("word_embed_proj_dim", &c->word_embed_proj_dim, 1, kMaxDim, c->hidden_size));
  LANTERN_RETURN_IF_ERROR(f.Bool("do_layer_norm_before", &c->do_layer_norm_before));
  LANTERN_RETURN_IF_ERROR(f.Bool("enable_bias", &c->enable_bias));
  LANTERN_RETURN_IF_ERROR(
      f.Bool("layer_norm_elementwise_affine", &c->layer_norm_elementwise_affine));
  LANTERN_RETURN_IF_ERROR(f.String("activation_function", &c->activation_function));
  bool remove_final = false;
  LANTERN_RETURN_IF_ERROR(f.Bool("_remove_final_layer_norm", &remove_final));
  // OPTDecoder builds final_layer_norm only if do_layer_norm_before and not removed.
  c->remove_final_layer_norm = remove_final || !c->do_layer_norm_before;
  c->num_key_value_heads = c->num_attention_heads;
  c->tie_word_embeddings = true;
  c->layer_norm_epsilon = 1e-5;  // OPT uses nn.LayerNorm's default
  return Status::Ok();
}

Status ParseGpt2(const Fields& f, ModelConfig* c) {
  LANTERN_RETURN_IF_ERROR(f.Int("vocab_size", &c->vocab_size, 1, kMaxVocab));
  LANTERN_RETURN_IF_ERROR(f.Int("n_embd", &c->hidden_size, 1, kMaxDim));
  LANTERN_RETURN_IF_ERROR(f.Int("n_layer", &c->num_hidden_layers, 1, kMaxLayers));
  LANTERN_RETURN_IF_ERROR(f.Int("n_head", &c->num_attention_heads, 1, kMaxDim));
  LANTERN_RETURN_IF_ERROR(f.Int("n_positions", &c->max_position_embeddings, 1, kMaxPositions));
  // n_inner: null means 4 * n_embd.
  LANTERN_RETURN_IF_ERROR(
      f.Int("n_inner", &c->intermediate_size, 1, kMaxDim,
            static_cast<int>(std::min<int64_t>(4LL * c->hidden_size, kMaxDim))));
  c->activation_function = "gelu_new";
  LANTERN_RETURN_IF_ERROR(f.String("activation_function", &c->activation_function));
  LANTERN_RETURN_IF_ERROR(f.Double("layer_norm_epsilon", &c->layer_norm_epsilon, 0, 1));
  LANTERN_RETURN_IF_ERROR(f.Bool("scale_attn_weights", &c->scale_attn_weights));
  LANTERN_RETURN_IF_ERROR(
      f.Bool("scale_attn_by_inverse_layer_idx", &c->scale_attn_by_inverse_layer_idx));
  c->num_key_value_heads = c->num_attention_heads;
  c->word_embed_proj_dim = c->hidden_size;
  c->tie_word_embeddings = true;
  return Status::Ok();
}

Status ParseLlama(const Fields& f, ModelConfig* c) {
  LANTERN_RETURN_IF_ERROR(f.Int("vocab_size", &c->vocab_size, 1, kMaxVocab));
  LANTERN_RETURN_IF_ERROR(f.Int("hidden_size", &c->hidden_size, 1, kMaxDim));
  LANTERN_RETURN_IF_ERROR(f.Int("num_hidden_layers", &c->num_hidden_layers, 1, kMaxLayers));
  LANTERN_RETURN_IF_ERROR(f.Int("num_attention_heads", &c->num_attention_heads, 1, kMaxDim));
  LANTERN_RETURN_IF_ERROR(
      f.Int("num_key_value_heads", &c->num_key_value_heads, 1, kMaxDim, c->num_attention_heads));
  LANTERN_RETURN_IF_ERROR(f.Int("intermediate_size", &c->intermediate_size, 1, kMaxDim));
  LANTERN_RETURN_IF_ERROR(
      f.Int("max_position_embeddings", &c->max_position_embeddings, 1, kMaxPositions));
  c->activation_function = "silu";
  LANTERN_RETURN_IF_ERROR(f.String("hidden_act", &c->activation_function));
  LANTERN_RETURN_IF_ERROR(f.Double("rms_norm_eps", &c->rms_norm_eps, 0, 1));
  LANTERN_RETURN_IF_ERROR(f.Double("rope_theta", &c->rope_theta, 1e-3, 1e12));
  LANTERN_RETURN_IF_ERROR(f.RawObject("rope_scaling", &c->rope_scaling_json));
  // transformers >= 5 writes "rope_parameters" (rope_theta and the scaling keys together).
  if (c->rope_scaling_json.empty() && f.Has("rope_parameters")) {
    LANTERN_RETURN_IF_ERROR(f.RawObject("rope_parameters", &c->rope_scaling_json));
    const json params = json::parse(c->rope_scaling_json);
    if (params.contains("rope_theta")) {
      const std::string source = "config.json rope_parameters";
      Fields p(params, source);
      LANTERN_RETURN_IF_ERROR(p.Double("rope_theta", &c->rope_theta, 1e-3, 1e12));
    }
  }
  c->attention_bias = c->model_type == "qwen2";  // Qwen2 always has q/k/v biases
  LANTERN_RETURN_IF_ERROR(f.Bool("attention_bias", &c->attention_bias));
  LANTERN_RETURN_IF_ERROR(f.Bool("mlp_bias", &c->mlp_bias));
  // MistralConfig's sliding_window always applies; Qwen2/Qwen3 only with use_sliding_window.
  bool use_sliding_window = c->model_type == "mistral";
  if (c->model_type == "qwen2" || c->model_type == "qwen3") {
    LANTERN_RETURN_IF_ERROR(f.Bool("use_sliding_window", &use_sliding_window));
  }
  if (use_sliding_window) {
    LANTERN_RETURN_IF_ERROR(f.Int("sliding_window", &c->sliding_window, 1, kMaxPositions, 0));
    if (c->model_type != "mistral") {  // Qwen2Config/Qwen3Config default: 28
      LANTERN_RETURN_IF_ERROR(f.Int("max_window_layers", &c->max_window_layers, 0, kMaxLayers, 28));
    }
  }
  c->tie_word_embeddings = false;  // LlamaConfig's default, unlike PretrainedConfig's
  c->word_embed_proj_dim = c->hidden_size;
  return Status::Ok();
}

Status CheckShapes(const Fields& f, ModelConfig* c) {
  if (f.Has("head_dim")) {
    LANTERN_RETURN_IF_ERROR(f.Int("head_dim", &c->head_dim, 1, kMaxDim));
  } else {
    if (c->hidden_size % c->num_attention_heads != 0) {
      return f.Error("num_attention_heads", "(" + std::to_string(c->num_attention_heads) +
                                                ") does not divide the " + "hidden size " +
                                                std::to_string(c->hidden_size));
    }
    c->head_dim = c->hidden_size / c->num_attention_heads;
  }
  if (c->num_attention_heads % c->num_key_value_heads != 0) {
    return f.Error("num_key_value_heads", "(" + std::to_string(c->num_key_value_heads) +
                                              ") does not divide num_attention_heads (" +
                                              std::to_string(c->num_attention_heads) + ")");
  }
  for (int id : c->eos_token_ids) {
    if (id >= c->vocab_size) return f.Error("eos_token_id", "is outside the vocabulary");
  }
  if (c->bos_token_id && *c->bos_token_id >= c->vocab_size) {
    return f.Error("bos_token_id", "is outside the vocabulary");
  }
  if (c->pad_token_id && *c->pad_token_id >= c->vocab_size) {
    return f.Error("pad_token_id", "is outside the vocabulary");
  }
  return Status::Ok();
}

}  // namespace

Result<ModelConfig> ParseModelConfig(const std::string& json_text, const std::string& source) {
  if (!internal::IsValidUtf8(json_text)) return InvalidArgument(source + ": not valid UTF-8");
  LANTERN_ASSIGN_OR_RETURN(json root, internal::ParseJsonStrict(json_text, source, 64));
  if (!root.is_object()) return InvalidArgument(source + ": expected a JSON object");
  Fields f(root, source);
  ModelConfig config;
  LANTERN_RETURN_IF_ERROR(ParseArchitecture(root, f, &config));
  switch (config.architecture) {
    case Architecture::kOpt:
      LANTERN_RETURN_IF_ERROR(ParseOpt(f, &config));
      break;
    case Architecture::kGpt2:
      LANTERN_RETURN_IF_ERROR(ParseGpt2(f, &config));
      break;
    case Architecture::kLlama:
      LANTERN_RETURN_IF_ERROR(ParseLlama(f, &config));
      break;
  }
  LANTERN_RETURN_IF_ERROR(f.Bool("tie_word_embeddings", &config.tie_word_embeddings));
  // transformers >= 4.56 writes "dtype"; earlier versions "torch_dtype".
  LANTERN_RETURN_IF_ERROR(
      f.String(f.Has("torch_dtype") ? "torch_dtype" : "dtype", &config.torch_dtype));
  LANTERN_RETURN_IF_ERROR(f.TokenId("bos_token_id", &config.bos_token_id));
  LANTERN_RETURN_IF_ERROR(f.TokenId("pad_token_id", &config.pad_token_id));
  LANTERN_RETURN_IF_ERROR(f.TokenIds("eos_token_id", &config.eos_token_ids));
  LANTERN_RETURN_IF_ERROR(CheckShapes(f, &config));
  return config;
}

Result<ModelConfig> LoadModelConfig(const std::filesystem::path& model_dir) {
  const std::filesystem::path path = model_dir / "config.json";
  LANTERN_ASSIGN_OR_RETURN(MappedFile file, MappedFile::Open(path));
  if (file.size() > kMaxConfigBytes) {
    return InvalidArgument(path.string() + ": " + std::to_string(file.size()) +
                           " bytes is too large for a config.json");
  }
  return ParseModelConfig(std::string(reinterpret_cast<const char*>(file.data()), file.size()),
                          path.string());
}

}  // namespace lantern::model
