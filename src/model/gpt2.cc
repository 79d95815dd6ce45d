#include "model/gpt2.h"

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

struct Norm {
  std::vector<float> gamma, beta;
};

struct Gpt2Layer {
  Norm ln_1, ln_2;
  DenseLinear c_attn;  // [hidden][3 hidden], q columns pre-scaled
  DenseLinear attn_proj, c_fc, mlp_proj;
};

class Gpt2Model final : public Model {
 public:
  Gpt2Model(const ModelConfig& config, int num_threads)
      : config_(config), pool_(num_threads, "compute") {}

  const ModelConfig& config() const override { return config_; }
  Status Forward(const Batch& batch, KvCache& kv, std::vector<float>* logits) override;
  Status Load(const WeightStore& store, const LoadOptions& options);

 private:
  Result<Norm> ReadNorm(const WeightReader& reader, const std::string& name) const;
  // A Conv1D: weight [in][out] as stored, bias [out].
  Result<DenseLinear> ReadConv1D(const WeightReader& reader, const std::string& name, int64_t in,
                                 int64_t out) const;
  void LayerNorm(const Norm& n, const float* x, int64_t rows, float* out) {
    tensor::LayerNorm(pool_, x, rows, config_.hidden_size, n.gamma.data(), n.beta.data(),
                      static_cast<float>(config_.layer_norm_epsilon), out);
  }
  void LayerForward(int index, const Gpt2Layer& layer, KvCache& kv);

  ModelConfig config_;
  ThreadPool pool_;
  DenseLinear wte_;         // [vocab][hidden] when untied: rows read, never multiplied
  std::vector<float> wpe_;  // [positions][hidden]
  DenseLinear lm_head_;     // [hidden][vocab]
  Norm ln_f_;
  std::vector<Gpt2Layer> layers_;

  BatchPlan plan_;
  std::vector<float> x_, normed_, qkv_, attn_, ffn_, head_in_;
};

Result<Norm> Gpt2Model::ReadNorm(const WeightReader& reader, const std::string& name) const {
  Norm n;
  const int64_t h = config_.hidden_size;
  LANTERN_ASSIGN_OR_RETURN(n.gamma, reader.Read(name + ".weight", {h}));
  LANTERN_ASSIGN_OR_RETURN(n.beta, reader.Read(name + ".bias", {h}));
  return n;
}

Result<DenseLinear> Gpt2Model::ReadConv1D(const WeightReader& reader, const std::string& name,
                                          int64_t in, int64_t out) const {
  DenseLinear l;
  l.in = in;
  l.out = out;
  LANTERN_ASSIGN_OR_RETURN(l.weight, reader.Read(name + ".weight", {in, out}));
  LANTERN_ASSIGN_OR_RETURN(l.bias, reader.Read(name + ".bias", {out}));
  return l;
}

Status Gpt2Model::Load(const WeightStore& store, const LoadOptions& options) {
  const ModelConfig& c = config_;
  const std::string& act = c.activation_function;
  if (act != "gelu_new" && act != "gelu_pytorch_tanh" && act != "gelu_fast") {
    return Unimplemented("config.json: activation_function \"" + act +
                         "\" is not supported for GPT-2 (gelu_new, gelu_pytorch_tanh, gelu_fast)");
  }
  const int64_t h = c.hidden_size, ffn = c.intermediate_size, vocab = c.vocab_size;
  weight_dtype_ = ResolveWeightDType(options.dtype, store);
  int8_weights_ = options.quantization == Quantization::kInt8;
  WeightReader reader(store, {"transformer.", ""}, pool_);
  WeightReader root(store, {""}, pool_);
  wte_.in = vocab;
  wte_.out = h;
  LANTERN_ASSIGN_OR_RETURN(wte_.weight, reader.Read("wte.weight", {vocab, h}));
  LANTERN_ASSIGN_OR_RETURN(wpe_, reader.Read("wpe.weight", {c.max_position_embeddings, h}));
  LANTERN_ASSIGN_OR_RETURN(ln_f_, ReadNorm(reader, "ln_f"));
  lm_head_.in = h;
  lm_head_.out = vocab;
  lm_head_.weight.resize(h * vocab);
  if (c.tie_word_embeddings) {
    tensor::Transpose(pool_, wte_.weight.data(), vocab, h, lm_head_.weight.data());
  } else {
    LANTERN_ASSIGN_OR_RETURN(std::vector<float> head, root.Read("lm_head.weight", {vocab, h}));
    tensor::Transpose(pool_, head.data(), vocab, h, lm_head_.weight.data());
  }
  // Tied: lookups read the LM head's column (in its type, int8 included); no second copy.
  if (c.tie_word_embeddings) {
    wte_ = DenseLinear();
  } else {
    wte_.StoreAs(pool_, weight_dtype_);
  }
  lm_head_.Store(pool_, weight_dtype_, int8_weights_);
  layers_.resize(c.num_hidden_layers);
  for (int i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "h." + std::to_string(i) + ".";
    Gpt2Layer& layer = layers_[i];
    LANTERN_ASSIGN_OR_RETURN(layer.ln_1, ReadNorm(reader, p + "ln_1"));
    LANTERN_ASSIGN_OR_RETURN(layer.ln_2, ReadNorm(reader, p + "ln_2"));
    LANTERN_ASSIGN_OR_RETURN(layer.c_attn, ReadConv1D(reader, p + "attn.c_attn", h, 3 * h));
    LANTERN_ASSIGN_OR_RETURN(layer.attn_proj, ReadConv1D(reader, p + "attn.c_proj", h, h));
    LANTERN_ASSIGN_OR_RETURN(layer.c_fc, ReadConv1D(reader, p + "mlp.c_fc", h, ffn));
    LANTERN_ASSIGN_OR_RETURN(layer.mlp_proj, ReadConv1D(reader, p + "mlp.c_proj", ffn, h));
    // The attention's score scaling goes into the q columns (and bias) once.
    float scale = c.scale_attn_weights ? 1.0f / std::sqrt(static_cast<float>(c.head_dim)) : 1.0f;
    if (c.scale_attn_by_inverse_layer_idx) scale /= static_cast<float>(i + 1);
    for (int64_t r = 0; r < h; ++r) {
      float* row = layer.c_attn.weight.data() + r * 3 * h;
      for (int64_t o = 0; o < h; ++o) row[o] *= scale;
    }
    for (int64_t o = 0; o < h; ++o) layer.c_attn.bias[o] *= scale;
    for (DenseLinear* l : {&layer.c_attn, &layer.attn_proj, &layer.c_fc, &layer.mlp_proj}) {
      l->Store(pool_, weight_dtype_, int8_weights_);
    }
  }
  auto floats = [](const std::vector<float>& v) { return v.size() * sizeof(float); };
  auto norm = [&](const Norm& n) { return floats(n.gamma) + floats(n.beta); };
  weight_bytes_ = wte_.bytes() + floats(wpe_) + lm_head_.bytes() + norm(ln_f_);
  for (const Gpt2Layer& l : layers_) {
    weight_bytes_ += l.c_attn.bytes() + l.attn_proj.bytes() + l.c_fc.bytes() + l.mlp_proj.bytes() +
                     norm(l.ln_1) + norm(l.ln_2);
  }
  return Status::Ok();
}

void Gpt2Model::LayerForward(int index, const Gpt2Layer& layer, KvCache& kv) {
  const int64_t h = config_.hidden_size, rows = plan_.rows;
  LayerNorm(layer.ln_1, x_.data(), rows, normed_.data());
  layer.c_attn.Apply(pool_, normed_.data(), rows, qkv_.data(), false);
  const tensor::PagedKvLayer kv_layer = PagedLayer(kv, index);
  tensor::WritePagedKv(pool_, kv_layer, plan_.sequences, qkv_.data() + h, 3 * h,
                       qkv_.data() + 2 * h, 3 * h);
  tensor::PagedAttention(pool_, kv_layer, plan_.sequences, qkv_.data(), 3 * h,
                         config_.num_attention_heads, attn_.data(), h);
  layer.attn_proj.Apply(pool_, attn_.data(), rows, x_.data(), /*accumulate=*/true);
  LayerNorm(layer.ln_2, x_.data(), rows, normed_.data());
  layer.c_fc.Multiply(pool_, normed_.data(), rows, ffn_.data(), false);
  tensor::BiasGeluTanh(pool_, ffn_.data(), rows, layer.c_fc.out, layer.c_fc.bias.data());
  layer.mlp_proj.Apply(pool_, ffn_.data(), rows, x_.data(), /*accumulate=*/true);
}

Status Gpt2Model::Forward(const Batch& batch, KvCache& kv, std::vector<float>* logits) {
  LANTERN_RETURN_IF_ERROR(ValidateBatch(batch, kv, config_, config_.max_position_embeddings));
  const int64_t h = config_.hidden_size;
  plan_.Build(batch);
  const int64_t rows = plan_.rows;
  FitBuffer(x_, rows * h);
  FitBuffer(normed_, rows * h);
  FitBuffer(qkv_, rows * 3 * h);
  FitBuffer(attn_, rows * h);
  FitBuffer(ffn_, rows * config_.intermediate_size);
  FitBuffer(head_in_, plan_.logit_rows * h);

  // x = wte[token] + wpe[position].
  pool_.ParallelFor(
      static_cast<int64_t>(plan_.sequences.size()), 1, [&](int64_t begin, int64_t end) {
        for (int64_t s = begin; s < end; ++s) {
          const SequenceChunk& seq = batch.sequences[s];
          for (size_t t = 0; t < seq.tokens.size(); ++t) {
            float* dst = x_.data() + (plan_.sequences[s].first_row + t) * h;
            if (wte_.out == 0) {
              lm_head_.ReadColumn(seq.tokens[t], dst);
            } else {
              wte_.ReadRow(seq.tokens[t], dst);
            }
            const float* pos = wpe_.data() + (seq.start_position + static_cast<int64_t>(t)) * h;
            for (int64_t c = 0; c < h; ++c) dst[c] += pos[c];
          }
        }
      });
  for (int i = 0; i < config_.num_hidden_layers; ++i) LayerForward(i, layers_[i], kv);

  logits->resize(plan_.logit_rows * config_.vocab_size);
  if (plan_.logit_rows == 0) return Status::Ok();
  plan_.GatherLogitRows(batch, x_.data(), h, head_in_.data());
  LayerNorm(ln_f_, head_in_.data(), plan_.logit_rows, head_in_.data());
  lm_head_.Apply(pool_, head_in_.data(), plan_.logit_rows, logits->data(), false);
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Model>> LoadGpt2Model(const ModelConfig& config, const WeightStore& weights,
                                             const LoadOptions& options) {
  auto model = std::make_unique<Gpt2Model>(config, options.num_threads);
  LANTERN_RETURN_IF_ERROR(model->Load(weights, options));
  return std::unique_ptr<Model>(std::move(model));
}

}  // namespace lantern::model
