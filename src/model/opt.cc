#include "model/opt.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "model/batch_plan.h"
#include "model/dense.h"
#include "model/kv_layer.h"
#include "tensor/attention.h"
#include "tensor/gemm.h"
#include "tensor/kernels.h"

namespace lantern::model {
namespace {

// HF's OPTLearnedPositionalEmbedding: row = position + 2 (rows 0 and 1 are reserved).
constexpr int kPositionOffset = 2;

struct LayerNormParams {
  std::vector<float> gamma, beta;  // empty without elementwise affine parameters
  const float* gamma_ptr() const { return gamma.empty() ? nullptr : gamma.data(); }
  const float* beta_ptr() const { return beta.empty() ? nullptr : beta.data(); }
};

struct OptLayer {
  DenseLinear qkv;  // q|k|v fused; q pre-scaled by head_dim^-0.5
  DenseLinear out_proj, fc1, fc2;
  LayerNormParams attn_norm, ffn_norm;
};

class OptModel final : public Model {
 public:
  OptModel(const ModelConfig& config, int num_threads)
      : config_(config), pool_(num_threads, "compute") {}

  const ModelConfig& config() const override { return config_; }
  Status Forward(const Batch& batch, KvCache& kv, std::vector<float>* logits) override;

  Status Load(const WeightStore& store, const LoadOptions& options);
  Status InitRandom(uint64_t seed, const LoadOptions& options);

 private:
  Status CheckShape();
  Result<LayerNormParams> ReadNorm(const WeightReader& reader, const std::string& name) const;
  Status Validate(const Batch& batch, const KvCache& kv) const;
  void Embed(const Batch& batch);
  void LayerForward(int layer_index, const OptLayer& layer, KvCache& kv);
  // Records the type and bytes of the weights once they are loaded.
  void CountWeights();
  void Norm(const LayerNormParams& p, const float* x, int64_t rows, float* out) {
    tensor::LayerNorm(pool_, x, rows, config_.hidden_size, p.gamma_ptr(), p.beta_ptr(),
                      static_cast<float>(config_.layer_norm_epsilon), out);
  }

  ModelConfig config_;
  ThreadPool pool_;
  int64_t proj_dim_ = 0;
  // Token embeddings. Tied: only the LM head's [proj][vocab] copy is kept and lookups
  // gather a column. Untied: embed_tokens stays [vocab][proj].
  DenseLinear embed_tokens_;      // rows read, never multiplied
  std::vector<float> positions_;  // [max_pos + 2][hidden]
  DenseLinear project_in_, project_out_, lm_head_;
  bool has_project_ = false, has_final_norm_ = false;
  LayerNormParams final_norm_;
  std::vector<OptLayer> layers_;

  // Per-batch workspace, kept between calls so decode steps do not allocate.
  std::vector<float> x_, normed_, qkv_, attn_, ffn_, proj_tmp_, head_in_;
  BatchPlan plan_;  // this batch's rows and attention sequences
};

Result<LayerNormParams> OptModel::ReadNorm(const WeightReader& reader,
                                           const std::string& name) const {
  LayerNormParams p;
  if (!config_.layer_norm_elementwise_affine) return p;
  const int64_t h = config_.hidden_size;
  LANTERN_ASSIGN_OR_RETURN(p.gamma, reader.Read(name + ".weight", {h}));
  LANTERN_ASSIGN_OR_RETURN(p.beta, reader.Read(name + ".bias", {h}));
  return p;
}

Status OptModel::CheckShape() {
  const ModelConfig& c = config_;
  const int64_t h = c.hidden_size;
  proj_dim_ = c.word_embed_proj_dim > 0 ? c.word_embed_proj_dim : h;
  if (c.num_attention_heads <= 0 || h % c.num_attention_heads != 0) {
    return InvalidArgument("config.json: hidden_size " + std::to_string(h) +
                           " is not divisible by num_attention_heads " +
                           std::to_string(c.num_attention_heads));
  }
  if (c.activation_function != "relu") {
    return Unimplemented("config.json: activation_function \"" + c.activation_function +
                         "\" is not supported for OPT (only \"relu\")");
  }
  config_.head_dim = static_cast<int>(h / c.num_attention_heads);
  config_.num_key_value_heads = c.num_attention_heads;
  has_project_ = proj_dim_ != h;
  has_final_norm_ = c.do_layer_norm_before && !c.remove_final_layer_norm;
  return Status::Ok();
}

Status OptModel::Load(const WeightStore& store, const LoadOptions& options) {
  LANTERN_RETURN_IF_ERROR(CheckShape());
  const ModelConfig& c = config_;
  const int64_t h = c.hidden_size, ffn = c.intermediate_size, vocab = c.vocab_size;
  weight_dtype_ = ResolveWeightDType(options.dtype, store);
  int8_weights_ = options.quantization == Quantization::kInt8;
  WeightReader reader(store, {"model.decoder.", "decoder.", ""}, pool_, weight_dtype_,
                      int8_weights_);
  WeightReader root(store, {""}, pool_);

  LANTERN_ASSIGN_OR_RETURN(std::vector<float> embed,
                           reader.Read("embed_tokens.weight", {vocab, proj_dim_}));
  LANTERN_ASSIGN_OR_RETURN(
      positions_,
      reader.Read("embed_positions.weight", {c.max_position_embeddings + kPositionOffset, h}));
  lm_head_.in = proj_dim_;
  lm_head_.out = vocab;
  lm_head_.weight.resize(proj_dim_ * vocab);
  if (c.tie_word_embeddings) {
    tensor::Transpose(pool_, embed.data(), vocab, proj_dim_, lm_head_.weight.data());
  } else {
    LANTERN_ASSIGN_OR_RETURN(std::vector<float> head,
                             root.Read("lm_head.weight", {vocab, proj_dim_}));
    tensor::Transpose(pool_, head.data(), vocab, proj_dim_, lm_head_.weight.data());
    embed_tokens_.in = vocab;
    embed_tokens_.out = proj_dim_;
    embed_tokens_.weight = std::move(embed);
    embed_tokens_.StoreAs(pool_, weight_dtype_);
  }
  lm_head_.Store(pool_, weight_dtype_, int8_weights_);
  if (has_project_) {
    LANTERN_ASSIGN_OR_RETURN(project_in_, reader.ReadLinear({"project_in"}, proj_dim_, h, false));
    LANTERN_ASSIGN_OR_RETURN(project_out_, reader.ReadLinear({"project_out"}, h, proj_dim_, false));
  }
  if (has_final_norm_) {
    LANTERN_ASSIGN_OR_RETURN(final_norm_, ReadNorm(reader, "final_layer_norm"));
  }
  const float scale = 1.0f / std::sqrt(static_cast<float>(config_.head_dim));
  const bool bias = c.enable_bias;
  layers_.resize(c.num_hidden_layers);
  for (int i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    OptLayer& layer = layers_[i];
    LANTERN_ASSIGN_OR_RETURN(
        layer.qkv,
        reader.ReadLinear({p + "self_attn.q_proj", p + "self_attn.k_proj", p + "self_attn.v_proj"},
                          h, h, bias, {scale, 1.0f, 1.0f}));
    LANTERN_ASSIGN_OR_RETURN(layer.out_proj,
                             reader.ReadLinear({p + "self_attn.out_proj"}, h, h, bias));
    LANTERN_ASSIGN_OR_RETURN(layer.fc1, reader.ReadLinear({p + "fc1"}, h, ffn, bias));
    LANTERN_ASSIGN_OR_RETURN(layer.fc2, reader.ReadLinear({p + "fc2"}, ffn, h, bias));
    LANTERN_ASSIGN_OR_RETURN(layer.attn_norm, ReadNorm(reader, p + "self_attn_layer_norm"));
    LANTERN_ASSIGN_OR_RETURN(layer.ffn_norm, ReadNorm(reader, p + "final_layer_norm"));
  }
  CountWeights();
  return Status::Ok();
}

Status OptModel::InitRandom(uint64_t seed, const LoadOptions& options) {
  weight_dtype_ = options.dtype.value_or(DType::kF32);
  int8_weights_ = options.quantization == Quantization::kInt8;
  LANTERN_RETURN_IF_ERROR(CheckShape());
  const ModelConfig& c = config_;
  const int64_t h = c.hidden_size, ffn = c.intermediate_size, vocab = c.vocab_size;
  uint64_t stream = seed * 0x9E3779B97F4A7C15ull;
  // Uniform in [center - a, center + a] with std 0.02 (a = 0.02 * sqrt(3)), filled in
  // parallel chunks, each from its own xorshift stream.
  auto fill = [&](int64_t n, float center = 0.0f) {
    std::vector<float> v(n);
    const uint64_t base = ++stream;
    constexpr int64_t kChunk = 1 << 16;
    pool_.ParallelFor((n + kChunk - 1) / kChunk, 1, [&](int64_t begin, int64_t end) {
      for (int64_t chunk = begin; chunk < end; ++chunk) {
        uint64_t x = (base + chunk) * 0xD1B54A32D192ED03ull | 1;
        for (int64_t i = chunk * kChunk; i < std::min(n, (chunk + 1) * kChunk); ++i) {
          x ^= x << 13, x ^= x >> 7, x ^= x << 17;
          const float unit = static_cast<float>(x >> 40) * (1.0f / 16777216.0f);  // [0, 1)
          v[i] = center + (2.0f * unit - 1.0f) * 0.0346410162f;
        }
      }
    });
    return v;
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
  auto norm = [&] {
    LayerNormParams p;
    if (c.layer_norm_elementwise_affine) p = {fill(h, 1.0f), fill(h)};
    return p;
  };
  positions_ = fill((c.max_position_embeddings + kPositionOffset) * h);
  lm_head_ = linear(proj_dim_, vocab, false);
  if (!c.tie_word_embeddings) {  // a table: kept in the dtype, never quantized
    embed_tokens_.in = vocab;
    embed_tokens_.out = proj_dim_;
    embed_tokens_.weight = fill(vocab * proj_dim_);
    embed_tokens_.StoreAs(pool_, weight_dtype_);
  }
  if (has_project_) {
    project_in_ = linear(proj_dim_, h, false);
    project_out_ = linear(h, proj_dim_, false);
  }
  if (has_final_norm_) final_norm_ = norm();
  layers_.resize(c.num_hidden_layers);
  for (OptLayer& layer : layers_) {
    layer.qkv = linear(h, 3 * h, c.enable_bias);
    layer.out_proj = linear(h, h, c.enable_bias);
    layer.fc1 = linear(h, ffn, c.enable_bias);
    layer.fc2 = linear(ffn, h, c.enable_bias);
    layer.attn_norm = norm();
    layer.ffn_norm = norm();
  }
  CountWeights();
  return Status::Ok();
}

Status OptModel::Validate(const Batch& batch, const KvCache& kv) const {
  return ValidateBatch(batch, kv, config_, config_.max_position_embeddings);
}

void OptModel::CountWeights() {
  auto floats = [](const std::vector<float>& v) { return v.size() * sizeof(float); };
  auto norm = [&](const LayerNormParams& p) { return floats(p.gamma) + floats(p.beta); };
  weight_bytes_ = lm_head_.bytes() + embed_tokens_.bytes() + floats(positions_) +
                  project_in_.bytes() + project_out_.bytes() + norm(final_norm_);
  for (const OptLayer& l : layers_) {
    weight_bytes_ += l.qkv.bytes() + l.out_proj.bytes() + l.fc1.bytes() + l.fc2.bytes() +
                     norm(l.attn_norm) + norm(l.ffn_norm);
  }
}

void OptModel::Embed(const Batch& batch) {
  const int64_t h = config_.hidden_size;
  float* token_rows = has_project_ ? proj_tmp_.data() : x_.data();
  pool_.ParallelFor(static_cast<int64_t>(plan_.sequences.size()), 1,
                    [&](int64_t begin, int64_t end) {
                      for (int64_t s = begin; s < end; ++s) {
                        const SequenceChunk& seq = batch.sequences[s];
                        for (size_t t = 0; t < seq.tokens.size(); ++t) {
                          float* dst = token_rows + (plan_.sequences[s].first_row + t) * proj_dim_;
                          const int64_t id = seq.tokens[t];
                          if (embed_tokens_.out == 0) {
                            lm_head_.ReadColumn(id, dst);
                          } else {
                            embed_tokens_.ReadRow(id, dst);
                          }
                        }
                      }
                    });
  if (has_project_) project_in_.Apply(pool_, proj_tmp_.data(), plan_.rows, x_.data(), false);
  pool_.ParallelFor(
      static_cast<int64_t>(plan_.sequences.size()), 1, [&](int64_t begin, int64_t end) {
        for (int64_t s = begin; s < end; ++s) {
          const tensor::AttentionSequence& seq = plan_.sequences[s];
          for (int32_t t = 0; t < seq.num_new; ++t) {
            const float* pos = positions_.data() + (seq.start_position + t + kPositionOffset) * h;
            float* dst = x_.data() + (seq.first_row + t) * h;
            for (int64_t c = 0; c < h; ++c) dst[c] += pos[c];
          }
        }
      });
}

void OptModel::LayerForward(int layer_index, const OptLayer& layer, KvCache& kv) {
  const int64_t h = config_.hidden_size, rows = plan_.rows;
  const bool pre_norm = config_.do_layer_norm_before;
  // Attention block: x += out_proj(attention(qkv(norm(x)))) [then x = norm(x) if post].
  const float* attn_in = x_.data();
  if (pre_norm) {
    Norm(layer.attn_norm, x_.data(), rows, normed_.data());
    attn_in = normed_.data();
  }
  layer.qkv.Apply(pool_, attn_in, rows, qkv_.data(), false);
  const tensor::PagedKvLayer kv_layer = PagedLayer(kv, layer_index);
  tensor::WritePagedKv(pool_, kv_layer, plan_.sequences, qkv_.data() + h, 3 * h,
                       qkv_.data() + 2 * h, 3 * h);
  tensor::PagedAttention(pool_, kv_layer, plan_.sequences, qkv_.data(), 3 * h,
                         config_.num_attention_heads, attn_.data(), h);
  layer.out_proj.Apply(pool_, attn_.data(), rows, x_.data(), /*accumulate=*/true);
  if (!pre_norm) Norm(layer.attn_norm, x_.data(), rows, x_.data());
  // Feed-forward block: x += fc2(relu(fc1(norm(x)))) [then x = norm(x) if post].
  const float* ffn_in = x_.data();
  if (pre_norm) {
    Norm(layer.ffn_norm, x_.data(), rows, normed_.data());
    ffn_in = normed_.data();
  }
  layer.fc1.Multiply(pool_, ffn_in, rows, ffn_.data(), false);
  tensor::BiasRelu(pool_, ffn_.data(), rows, layer.fc1.out,
                   layer.fc1.bias.empty() ? nullptr : layer.fc1.bias.data());
  layer.fc2.Apply(pool_, ffn_.data(), rows, x_.data(), /*accumulate=*/true);
  if (!pre_norm) Norm(layer.ffn_norm, x_.data(), rows, x_.data());
}

Status OptModel::Forward(const Batch& batch, KvCache& kv, std::vector<float>* logits) {
  LANTERN_RETURN_IF_ERROR(Validate(batch, kv));
  const int64_t h = config_.hidden_size;
  plan_.Build(batch);
  const int64_t logit_rows = plan_.logit_rows;
  FitBuffer(x_, plan_.rows * h);
  FitBuffer(normed_, plan_.rows * h);
  FitBuffer(qkv_, plan_.rows * 3 * h);
  FitBuffer(attn_, plan_.rows * h);
  FitBuffer(ffn_, plan_.rows * config_.intermediate_size);
  FitBuffer(proj_tmp_, std::max(plan_.rows, logit_rows) * proj_dim_);
  FitBuffer(head_in_, logit_rows * h);

  Embed(batch);
  for (int i = 0; i < config_.num_hidden_layers; ++i) LayerForward(i, layers_[i], kv);

  // Only the rows whose logits were asked for go through the final norm and LM head.
  plan_.GatherLogitRows(batch, x_.data(), h, head_in_.data());
  logits->resize(logit_rows * config_.vocab_size);
  if (logit_rows == 0) return Status::Ok();
  if (has_final_norm_) Norm(final_norm_, head_in_.data(), logit_rows, head_in_.data());
  const float* head_x = head_in_.data();
  if (has_project_) {
    project_out_.Apply(pool_, head_in_.data(), logit_rows, proj_tmp_.data(), false);
    head_x = proj_tmp_.data();
  }
  lm_head_.Apply(pool_, head_x, logit_rows, logits->data(), false);
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Model>> LoadOptModel(const ModelConfig& config, const WeightStore& weights,
                                            const LoadOptions& options) {
  auto model = std::make_unique<OptModel>(config, options.num_threads);
  LANTERN_RETURN_IF_ERROR(model->Load(weights, options));
  return std::unique_ptr<Model>(std::move(model));
}

ModelConfig Opt125mShapeConfig() {
  ModelConfig c;
  c.architecture = Architecture::kOpt;
  c.model_type = "opt";
  c.architecture_name = "OPTForCausalLM";
  c.vocab_size = 50272;
  c.hidden_size = 768;
  c.num_hidden_layers = 12;
  c.num_attention_heads = 12;
  c.num_key_value_heads = 12;
  c.head_dim = 64;
  c.intermediate_size = 3072;
  c.max_position_embeddings = 2048;
  c.word_embed_proj_dim = 768;
  c.bos_token_id = 2;
  c.eos_token_ids = {2};
  return c;
}

Result<std::unique_ptr<Model>> NewRandomOptModel(const ModelConfig& config, uint64_t seed,
                                                 const LoadOptions& options) {
  auto model = std::make_unique<OptModel>(config, options.num_threads);
  LANTERN_RETURN_IF_ERROR(model->InitRandom(seed, options));
  return std::unique_ptr<Model>(std::move(model));
}

}  // namespace lantern::model
