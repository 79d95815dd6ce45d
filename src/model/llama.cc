#include "model/llama.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "model/batch_plan.h"
#include "model/dense.h"
#include "model/device_backend.h"
#include "model/kv_layer.h"
#include "model/rope_scaling.h"
#include "tensor/attention.h"
#include "tensor/gemm.h"
#include "tensor/kernels.h"
#include "tensor/rope.h"

namespace lantern::model {
namespace {

struct LlamaLayer {
  std::vector<float> attn_norm, ffn_norm;
  std::vector<float> q_norm, k_norm;  // Qwen3 only: [head_dim]
  DenseLinear qkv;                    // q|k|v fused: [hidden][(heads + 2 kv_heads) head_dim]
  DenseLinear o_proj;
  DenseLinear gate_up;  // gate|up fused: [hidden][2 ffn]
  DenseLinear down;
};

class LlamaModel final : public Model {
 public:
  LlamaModel(const ModelConfig& config, int num_threads)
      : config_(config), pool_(num_threads, "compute") {}

  const ModelConfig& config() const override { return config_; }
  Status Forward(const Batch& batch, KvCache& kv, std::vector<float>* logits) override;

  Status Load(const WeightStore& store, const LoadOptions& options);
  Status InitRandom(uint64_t seed, const LoadOptions& options);

 private:
  Status Setup();
  void Embed(const Batch& batch);
  void LayerForward(int index, const LlamaLayer& layer, KvCache& kv);
  // Records the type and bytes of the weights once they are loaded.
  void CountWeights();
  float eps() const { return static_cast<float>(config_.rms_norm_eps); }

  ModelConfig config_;
  ThreadPool pool_;
  RopeParameters rope_;
  int64_t q_dim_ = 0, kv_dim_ = 0, qkv_dim_ = 0;
  bool qkv_bias_ = false, o_bias_ = false, mlp_bias_ = false, qk_norm_ = false;
  // Tied: only the LM head's [hidden][vocab] copy is kept and lookups gather a column.
  DenseLinear embed_tokens_;  // [vocab][hidden] when untied (rows read, never multiplied)
  DenseLinear lm_head_;
  std::vector<float> final_norm_;
  std::vector<LlamaLayer> layers_;

  // Per-batch workspace, kept between calls so decode steps do not allocate.
  BatchPlan plan_;
  std::vector<float> x_, normed_, qkv_, attn_, gate_up_, act_, cos_, sin_, head_in_;
};

Status LlamaModel::Setup() {
  const ModelConfig& c = config_;
  if (c.activation_function != "silu" && c.activation_function != "swish") {
    return Unimplemented("config.json: hidden_act \"" + c.activation_function +
                         "\" is not supported for " + c.architecture_name + " (only \"silu\")");
  }
  LANTERN_ASSIGN_OR_RETURN(rope_, ComputeRopeParameters(c));
  config_.max_position_embeddings = static_cast<int>(rope_.max_positions);
  q_dim_ = int64_t{c.num_attention_heads} * c.head_dim;
  kv_dim_ = int64_t{c.num_key_value_heads} * c.head_dim;
  qkv_dim_ = q_dim_ + 2 * kv_dim_;
  const std::string& type = c.model_type;
  // transformers: Qwen2 always has q/k/v biases (o_proj none); Mistral never; Llama and
  // Qwen3 follow attention_bias for all four. mlp_bias exists for Llama only.
  qkv_bias_ = type == "qwen2" || ((type == "llama" || type == "qwen3") && c.attention_bias);
  o_bias_ = (type == "llama" || type == "qwen3") && c.attention_bias;
  mlp_bias_ = type == "llama" && c.mlp_bias;
  qk_norm_ = type == "qwen3";
  return Status::Ok();
}

Status LlamaModel::Load(const WeightStore& store, const LoadOptions& options) {
  LANTERN_RETURN_IF_ERROR(Setup());
  const ModelConfig& c = config_;
  const int64_t h = c.hidden_size, ffn = c.intermediate_size, vocab = c.vocab_size;
  const int64_t hd = c.head_dim;
  weight_dtype_ = ResolveWeightDType(options.dtype, store);
  int8_weights_ = options.quantization == Quantization::kInt8;
  WeightReader reader(store, {"model.", ""}, pool_, weight_dtype_, int8_weights_);
  // The LM head is [vocab][hidden] as stored, the embedding table (tied) or lm_head.weight:
  // read as a linear layer, so a 16-bit checkpoint goes straight to its served type.
  if (c.tie_word_embeddings) {
    LANTERN_ASSIGN_OR_RETURN(lm_head_, reader.ReadLinear({"embed_tokens"}, h, vocab, false));
  } else {
    LANTERN_ASSIGN_OR_RETURN(std::vector<float> embed,
                             reader.Read("embed_tokens.weight", {vocab, h}));
    WeightReader root(store, {""}, pool_, weight_dtype_, int8_weights_);
    LANTERN_ASSIGN_OR_RETURN(lm_head_, root.ReadLinear({"lm_head"}, h, vocab, false));
    embed_tokens_.in = vocab;
    embed_tokens_.out = h;
    embed_tokens_.weight = std::move(embed);
    embed_tokens_.StoreAs(pool_, weight_dtype_);
  }
  LANTERN_ASSIGN_OR_RETURN(final_norm_, reader.Read("norm.weight", {h}));
  layers_.resize(c.num_hidden_layers);
  for (int i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    LlamaLayer& layer = layers_[i];
    LANTERN_ASSIGN_OR_RETURN(layer.attn_norm, reader.Read(p + "input_layernorm.weight", {h}));
    LANTERN_ASSIGN_OR_RETURN(layer.ffn_norm,
                             reader.Read(p + "post_attention_layernorm.weight", {h}));
    LANTERN_ASSIGN_OR_RETURN(layer.qkv, reader.ReadFused({{p + "self_attn.q_proj", q_dim_},
                                                          {p + "self_attn.k_proj", kv_dim_},
                                                          {p + "self_attn.v_proj", kv_dim_}},
                                                         h, qkv_bias_));
    LANTERN_ASSIGN_OR_RETURN(layer.o_proj,
                             reader.ReadFused({{p + "self_attn.o_proj", h}}, q_dim_, o_bias_));
    if (qk_norm_) {
      LANTERN_ASSIGN_OR_RETURN(layer.q_norm, reader.Read(p + "self_attn.q_norm.weight", {hd}));
      LANTERN_ASSIGN_OR_RETURN(layer.k_norm, reader.Read(p + "self_attn.k_norm.weight", {hd}));
    }
    LANTERN_ASSIGN_OR_RETURN(
        layer.gate_up,
        reader.ReadFused({{p + "mlp.gate_proj", ffn}, {p + "mlp.up_proj", ffn}}, h, mlp_bias_));
    LANTERN_ASSIGN_OR_RETURN(layer.down,
                             reader.ReadFused({{p + "mlp.down_proj", h}}, ffn, mlp_bias_));
  }
  CountWeights();
  return Status::Ok();
}

Status LlamaModel::InitRandom(uint64_t seed, const LoadOptions& options) {
  LANTERN_RETURN_IF_ERROR(Setup());
  weight_dtype_ = options.dtype.value_or(DType::kF32);
  int8_weights_ = options.quantization == Quantization::kInt8;
  const ModelConfig& c = config_;
  const int64_t h = c.hidden_size, ffn = c.intermediate_size, vocab = c.vocab_size;
  uint64_t stream = seed << 20;
  auto fill = [&](int64_t n, float center = 0.0f) {
    return RandomWeights(pool_, n, ++stream, center);
  };
  auto linear = [&](int64_t in, int64_t out, bool bias) {
    DenseLinear l;
    l.in = in;
    l.out = out;
    l.weight = fill(in * out);
    if (bias) l.bias = fill(out);
    l.Store(pool_, weight_dtype_, int8_weights_);
    return l;
  };
  lm_head_ = linear(h, vocab, false);
  if (!c.tie_word_embeddings) {  // a table: kept in the dtype, never quantized
    embed_tokens_.in = vocab;
    embed_tokens_.out = h;
    embed_tokens_.weight = fill(vocab * h);
    embed_tokens_.StoreAs(pool_, weight_dtype_);
  }
  final_norm_ = fill(h, 1.0f);
  layers_.resize(c.num_hidden_layers);
  for (LlamaLayer& layer : layers_) {
    layer.attn_norm = fill(h, 1.0f);
    layer.ffn_norm = fill(h, 1.0f);
    layer.qkv = linear(h, qkv_dim_, qkv_bias_);
    layer.o_proj = linear(q_dim_, h, o_bias_);
    if (qk_norm_) layer.q_norm = fill(c.head_dim, 1.0f), layer.k_norm = fill(c.head_dim, 1.0f);
    layer.gate_up = linear(h, 2 * ffn, mlp_bias_);
    layer.down = linear(ffn, h, mlp_bias_);
  }
  CountWeights();
  return Status::Ok();
}

void LlamaModel::CountWeights() {
  auto floats = [](const std::vector<float>& v) { return v.size() * sizeof(float); };
  weight_bytes_ = lm_head_.bytes() + embed_tokens_.bytes() + floats(final_norm_);
  for (const LlamaLayer& l : layers_) {
    weight_bytes_ += l.qkv.bytes() + l.o_proj.bytes() + l.gate_up.bytes() + l.down.bytes() +
                     floats(l.attn_norm) + floats(l.ffn_norm) + floats(l.q_norm) + floats(l.k_norm);
  }
}

void LlamaModel::Embed(const Batch& batch) {
  const int64_t h = config_.hidden_size;
  pool_.ParallelFor(static_cast<int64_t>(plan_.sequences.size()), 1,
                    [&](int64_t begin, int64_t end) {
                      for (int64_t s = begin; s < end; ++s) {
                        const SequenceChunk& seq = batch.sequences[s];
                        for (size_t t = 0; t < seq.tokens.size(); ++t) {
                          float* dst = x_.data() + (plan_.sequences[s].first_row + t) * h;
                          const int64_t id = seq.tokens[t];
                          if (embed_tokens_.out == 0) {
                            lm_head_.ReadColumn(id, dst);
                          } else {
                            embed_tokens_.ReadRow(id, dst);
                          }
                        }
                      }
                    });
}

void LlamaModel::LayerForward(int index, const LlamaLayer& layer, KvCache& kv) {
  const ModelConfig& c = config_;
  const int64_t h = c.hidden_size, rows = plan_.rows, ffn = c.intermediate_size;
  const int hd = c.head_dim;
  // Attention: x += o_proj(attention(rope(qk_norm(qkv(rms_norm(x)))))).
  tensor::RmsNorm(pool_, x_.data(), rows, h, layer.attn_norm.data(), eps(), normed_.data());
  layer.qkv.Apply(pool_, normed_.data(), rows, qkv_.data(), false);
  float* q = qkv_.data();
  float* k = q + q_dim_;
  float* v = k + kv_dim_;
  if (qk_norm_) {
    tensor::GroupRmsNormInPlace(pool_, q, rows, qkv_dim_, c.num_attention_heads, hd,
                                layer.q_norm.data(), eps());
    tensor::GroupRmsNormInPlace(pool_, k, rows, qkv_dim_, c.num_key_value_heads, hd,
                                layer.k_norm.data(), eps());
  }
  // The queries also take attention's 1/sqrt(head_dim) here.
  tensor::ApplyRope(pool_, q, rows, qkv_dim_, c.num_attention_heads, hd, cos_.data(), sin_.data(),
                    1.0f / std::sqrt(static_cast<float>(hd)));
  tensor::ApplyRope(pool_, k, rows, qkv_dim_, c.num_key_value_heads, hd, cos_.data(), sin_.data(),
                    1.0f);
  const tensor::PagedKvLayer kv_layer = PagedLayer(kv, index);
  tensor::WritePagedKv(pool_, kv_layer, plan_.sequences, k, qkv_dim_, v, qkv_dim_);
  const int window = index >= c.max_window_layers ? c.sliding_window : 0;
  tensor::PagedAttention(pool_, kv_layer, plan_.sequences, q, qkv_dim_, c.num_attention_heads,
                         attn_.data(), q_dim_, window);
  layer.o_proj.Apply(pool_, attn_.data(), rows, x_.data(), /*accumulate=*/true);
  // Feed-forward: x += down(silu(gate(rms_norm(x))) * up(rms_norm(x))).
  tensor::RmsNorm(pool_, x_.data(), rows, h, layer.ffn_norm.data(), eps(), normed_.data());
  layer.gate_up.Apply(pool_, normed_.data(), rows, gate_up_.data(), false);
  tensor::SiluMul(pool_, gate_up_.data(), rows, ffn, act_.data());
  layer.down.Apply(pool_, act_.data(), rows, x_.data(), /*accumulate=*/true);
}

Status LlamaModel::Forward(const Batch& batch, KvCache& kv, std::vector<float>* logits) {
  LANTERN_RETURN_IF_ERROR(ValidateBatch(batch, kv, config_, rope_.max_positions));
  const int64_t h = config_.hidden_size;
  plan_.Build(batch);
  const int64_t rows = plan_.rows, half = config_.head_dim / 2;
  FitBuffer(x_, rows * h);
  FitBuffer(normed_, rows * h);
  FitBuffer(qkv_, rows * qkv_dim_);
  FitBuffer(attn_, rows * q_dim_);
  FitBuffer(gate_up_, rows * 2 * config_.intermediate_size);
  FitBuffer(act_, rows * config_.intermediate_size);
  FitBuffer(cos_, rows * half);
  FitBuffer(sin_, rows * half);
  FitBuffer(head_in_, plan_.logit_rows * h);

  Embed(batch);
  tensor::RopeCosSin(pool_, plan_.positions, rope_.inv_freq, rope_.attention_factor, cos_.data(),
                     sin_.data());
  for (int i = 0; i < config_.num_hidden_layers; ++i) LayerForward(i, layers_[i], kv);

  // Only the rows whose logits were asked for go through the final norm and LM head.
  logits->resize(plan_.logit_rows * config_.vocab_size);
  if (plan_.logit_rows == 0) return Status::Ok();
  plan_.GatherLogitRows(batch, x_.data(), h, head_in_.data());
  tensor::RmsNorm(pool_, head_in_.data(), plan_.logit_rows, h, final_norm_.data(), eps(),
                  head_in_.data());
  lm_head_.Apply(pool_, head_in_.data(), plan_.logit_rows, logits->data(), false);
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Model>> LoadLlamaModel(const ModelConfig& config, const WeightStore& weights,
                                              const LoadOptions& options) {
  auto model = std::make_unique<LlamaModel>(config, options.num_threads);
  LANTERN_RETURN_IF_ERROR(model->Load(weights, options));
  return std::unique_ptr<Model>(std::move(model));
}

ModelConfig SmolLm135mShapeConfig() {
  ModelConfig c;
  c.architecture = Architecture::kLlama;
  c.model_type = "llama";
  c.architecture_name = "LlamaForCausalLM";
  c.vocab_size = 49152;
  c.hidden_size = 576;
  c.num_hidden_layers = 30;
  c.num_attention_heads = 9;
  c.num_key_value_heads = 3;
  c.head_dim = 64;
  c.intermediate_size = 1536;
  c.max_position_embeddings = 2048;
  c.word_embed_proj_dim = 576;
  c.tie_word_embeddings = true;
  c.activation_function = "silu";
  c.rms_norm_eps = 1e-5;
  c.rope_theta = 10000.0;
  c.bos_token_id = 0;
  c.eos_token_ids = {0};
  return c;
}

Result<std::unique_ptr<Model>> NewRandomLlamaModel(const ModelConfig& config, uint64_t seed,
                                                   const LoadOptions& options) {
  if (options.device.is_cuda()) return NewRandomCudaModel(config, seed, options);
  auto model = std::make_unique<LlamaModel>(config, options.num_threads);
  LANTERN_RETURN_IF_ERROR(model->InitRandom(seed, options));
  return std::unique_ptr<Model>(std::move(model));
}

}  // namespace lantern::model
