#include <algorithm>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "model/batch_plan.h"
#include "model/cuda/cuda_llama_model.h"

namespace lantern::model::cuda {
namespace {

Result<const WeightView*> Find(const WeightStore& store, const std::string& name,
                               const std::vector<int64_t>& shape, bool model_prefix = true) {
  const WeightView* view = nullptr;
  for (const char* prefix : {"model.", ""}) {
    if (!model_prefix && *prefix) continue;
    if ((view = store.Find(prefix + name)) != nullptr) break;
  }
  if (view == nullptr) return NotFound("checkpoint: tensor " + name + " is missing");
  if (view->shape != shape) {
    std::string want, got;
    for (int64_t d : shape) want += (want.empty() ? "" : ", ") + std::to_string(d);
    for (int64_t d : view->shape) got += (got.empty() ? "" : ", ") + std::to_string(d);
    return InvalidArgument("checkpoint: tensor " + name + " has shape [" + got + "], expected [" +
                           want + "]");
  }
  return view;
}

Result<tc::DeviceBuffer> UploadTensor(Uploader& up, const WeightView& view, DeviceType type) {
  const size_t n = static_cast<size_t>(view.numel());
  LANTERN_ASSIGN_OR_RETURN(tc::DeviceBuffer buffer,
                           tc::DeviceBuffer::Allocate(n * DeviceTypeSize(type)));
  LANTERN_RETURN_IF_ERROR(up.Upload(view.data, view.dtype, n, buffer.get(), type));
  return buffer;
}

}  // namespace

Result<DeviceLinear> CudaLlamaModel::UploadFused(
    Uploader& up, const WeightStore& store,
    const std::vector<std::pair<std::string, int64_t>>& parts, int64_t in, bool with_bias,
    uint64_t* done, uint64_t total, const LoadOptions& options) {
  DeviceLinear linear;
  linear.in = in;
  for (const auto& part : parts) linear.out += part.second;
  const DeviceType type = ToDeviceType(half_);
  LANTERN_ASSIGN_OR_RETURN(
      linear.weight,
      tc::DeviceBuffer::Allocate(static_cast<size_t>(linear.out * in) * DeviceTypeSize(type)));
  if (with_bias) {
    LANTERN_ASSIGN_OR_RETURN(linear.bias,
                             tc::DeviceBuffer::Allocate(static_cast<size_t>(linear.out) * 4));
  }
  int64_t row = 0;
  for (const auto& [name, out] : parts) {
    LANTERN_ASSIGN_OR_RETURN(const WeightView* w, Find(store, name + ".weight", {out, in}));
    LANTERN_RETURN_IF_ERROR(up.Upload(
        w->data, w->dtype, static_cast<size_t>(out * in),
        linear.weight.as<std::byte>() + static_cast<size_t>(row * in) * DeviceTypeSize(type),
        type));
    *done += w->nbytes;
    if (with_bias) {
      LANTERN_ASSIGN_OR_RETURN(const WeightView* b, Find(store, name + ".bias", {out}));
      LANTERN_RETURN_IF_ERROR(up.Upload(b->data, b->dtype, static_cast<size_t>(out),
                                        linear.bias.as<float>() + row, DeviceType::kF32));
      *done += b->nbytes;
    }
    row += out;
  }
  if (options.progress) options.progress(std::min(*done, total), total);
  return linear;
}

Status CudaLlamaModel::Load(const WeightStore& store, const LoadOptions& options) {
  const ModelConfig& c = config_;
  const int64_t h = c.hidden_size, ffn = c.intermediate_size, vocab = c.vocab_size;
  const int64_t hd = c.head_dim;
  LANTERN_ASSIGN_OR_RETURN(Uploader up, Uploader::Create());
  const uint64_t total = store.total_bytes();
  uint64_t done = 0;
  const DeviceType type = ToDeviceType(half_);
  auto tensor = [&](const std::string& name, std::vector<int64_t> shape, DeviceType as,
                    bool model_prefix = true) -> Result<tc::DeviceBuffer> {
    LANTERN_ASSIGN_OR_RETURN(const WeightView* view, Find(store, name, shape, model_prefix));
    LANTERN_ASSIGN_OR_RETURN(tc::DeviceBuffer buffer, UploadTensor(up, *view, as));
    done += view->nbytes;
    if (options.progress) options.progress(std::min(done, total), total);
    return buffer;
  };
  LANTERN_ASSIGN_OR_RETURN(embed_, tensor("embed_tokens.weight", {vocab, h}, type));
  if (!c.tie_word_embeddings) {
    LANTERN_ASSIGN_OR_RETURN(lm_head_, tensor("lm_head.weight", {vocab, h}, type, false));
  }
  LANTERN_ASSIGN_OR_RETURN(final_norm_, tensor("norm.weight", {h}, DeviceType::kF32));
  layers_.resize(c.num_hidden_layers);
  for (int i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    Layer& l = layers_[i];
    LANTERN_ASSIGN_OR_RETURN(l.attn_norm,
                             tensor(p + "input_layernorm.weight", {h}, DeviceType::kF32));
    LANTERN_ASSIGN_OR_RETURN(l.ffn_norm,
                             tensor(p + "post_attention_layernorm.weight", {h}, DeviceType::kF32));
    if (qk_norm_) {
      LANTERN_ASSIGN_OR_RETURN(l.q_norm,
                               tensor(p + "self_attn.q_norm.weight", {hd}, DeviceType::kF32));
      LANTERN_ASSIGN_OR_RETURN(l.k_norm,
                               tensor(p + "self_attn.k_norm.weight", {hd}, DeviceType::kF32));
    }
    LANTERN_ASSIGN_OR_RETURN(l.qkv, UploadFused(up, store,
                                                {{p + "self_attn.q_proj", q_dim_},
                                                 {p + "self_attn.k_proj", kv_dim_},
                                                 {p + "self_attn.v_proj", kv_dim_}},
                                                h, qkv_bias_, &done, total, options));
    LANTERN_ASSIGN_OR_RETURN(l.o_proj, UploadFused(up, store, {{p + "self_attn.o_proj", h}}, q_dim_,
                                                   o_bias_, &done, total, options));
    LANTERN_ASSIGN_OR_RETURN(
        l.gate_up, UploadFused(up, store, {{p + "mlp.gate_proj", ffn}, {p + "mlp.up_proj", ffn}}, h,
                               mlp_bias_, &done, total, options));
    LANTERN_ASSIGN_OR_RETURN(l.down, UploadFused(up, store, {{p + "mlp.down_proj", h}}, ffn,
                                                 mlp_bias_, &done, total, options));
  }
  LANTERN_RETURN_IF_ERROR(up.Finish());
  CountWeights();
  return Status::Ok();
}

Status CudaLlamaModel::InitRandom(uint64_t seed) {
  const ModelConfig& c = config_;
  const int64_t h = c.hidden_size, ffn = c.intermediate_size, vocab = c.vocab_size;
  ThreadPool pool(0, "cuda-init");
  LANTERN_ASSIGN_OR_RETURN(Uploader up, Uploader::Create());
  uint64_t stream = seed << 20;
  const DeviceType type = ToDeviceType(half_);
  // The host values must outlive their asynchronous copies: each waits for Finish().
  std::vector<std::vector<float>> keep;
  auto fill = [&](int64_t n, DeviceType as, float center = 0.0f) -> Result<tc::DeviceBuffer> {
    keep.push_back(RandomWeights(pool, n, ++stream, center));
    LANTERN_ASSIGN_OR_RETURN(
        tc::DeviceBuffer buffer,
        tc::DeviceBuffer::Allocate(static_cast<size_t>(n) * DeviceTypeSize(as)));
    LANTERN_RETURN_IF_ERROR(
        up.Upload(keep.back().data(), DType::kF32, static_cast<size_t>(n), buffer.get(), as));
    if (keep.size() >= 4) {  // bound the host memory held
      LANTERN_RETURN_IF_ERROR(up.Finish());
      keep.clear();
    }
    return buffer;
  };
  auto linear = [&](int64_t in, int64_t out, bool bias) -> Result<DeviceLinear> {
    DeviceLinear l;
    l.in = in;
    l.out = out;
    LANTERN_ASSIGN_OR_RETURN(l.weight, fill(in * out, type));
    if (bias) {
      LANTERN_ASSIGN_OR_RETURN(l.bias, fill(out, DeviceType::kF32));
    }
    return l;
  };
  LANTERN_ASSIGN_OR_RETURN(embed_, fill(vocab * h, type));
  if (!c.tie_word_embeddings) {
    LANTERN_ASSIGN_OR_RETURN(lm_head_, fill(vocab * h, type));
  }
  LANTERN_ASSIGN_OR_RETURN(final_norm_, fill(h, DeviceType::kF32, 1.0f));
  layers_.resize(c.num_hidden_layers);
  for (Layer& l : layers_) {
    LANTERN_ASSIGN_OR_RETURN(l.attn_norm, fill(h, DeviceType::kF32, 1.0f));
    LANTERN_ASSIGN_OR_RETURN(l.ffn_norm, fill(h, DeviceType::kF32, 1.0f));
    if (qk_norm_) {
      LANTERN_ASSIGN_OR_RETURN(l.q_norm, fill(c.head_dim, DeviceType::kF32, 1.0f));
      LANTERN_ASSIGN_OR_RETURN(l.k_norm, fill(c.head_dim, DeviceType::kF32, 1.0f));
    }
    LANTERN_ASSIGN_OR_RETURN(l.qkv, linear(h, qkv_dim_, qkv_bias_));
    LANTERN_ASSIGN_OR_RETURN(l.o_proj, linear(q_dim_, h, o_bias_));
    LANTERN_ASSIGN_OR_RETURN(l.gate_up, linear(h, 2 * ffn, mlp_bias_));
    LANTERN_ASSIGN_OR_RETURN(l.down, linear(ffn, h, mlp_bias_));
  }
  LANTERN_RETURN_IF_ERROR(up.Finish());
  CountWeights();
  return Status::Ok();
}

void CudaLlamaModel::CountWeights() {
  uint64_t bytes = embed_.bytes() + lm_head_.bytes() + final_norm_.bytes() + inv_freq_.bytes();
  for (const Layer& l : layers_) {
    bytes += l.attn_norm.bytes() + l.ffn_norm.bytes() + l.q_norm.bytes() + l.k_norm.bytes();
    for (const DeviceLinear* d : {&l.qkv, &l.o_proj, &l.gate_up, &l.down}) {
      bytes += d->weight.bytes() + d->bias.bytes();
    }
  }
  weight_bytes_ = bytes;
}

DType CheckpointType(const WeightStore& store) {
  uint64_t values[3] = {0, 0, 0};
  for (const std::string& name : store.Names()) {
    const WeightView* view = store.Find(name);
    values[static_cast<int>(view->dtype)] += static_cast<uint64_t>(view->numel());
  }
  DType most = DType::kF32;
  for (DType d : {DType::kF16, DType::kBF16}) {
    if (values[static_cast<int>(d)] > values[static_cast<int>(most)]) most = d;
  }
  return most;
}

}  // namespace lantern::model::cuda
