#include "model/cuda/cuda_llama.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "model/batch_plan.h"
#include "model/cuda/cuda_llama_model.h"

namespace lantern::model::cuda {

Status CudaLlamaModel::Setup() {
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
  // As model/llama.cc (transformers' rules per model type).
  qkv_bias_ = type == "qwen2" || ((type == "llama" || type == "qwen3") && c.attention_bias);
  o_bias_ = (type == "llama" || type == "qwen3") && c.attention_bias;
  mlp_bias_ = type == "llama" && c.mlp_bias;
  qk_norm_ = type == "qwen3";
  return Status::Ok();
}

Status CudaLlamaModel::Init(std::optional<DType> requested, DType checkpoint_type) {
  if (requested == DType::kF32) {
    return InvalidArgument(
        "--dtype float32: the CUDA backend keeps weights in bfloat16 or "
        "float16 (--dtype auto, bfloat16 or float16)");
  }
  // auto: a 16-bit checkpoint stays as it is, an F32 one becomes bfloat16.
  weight_dtype_ = requested.value_or(checkpoint_type == DType::kF16 ? DType::kF16 : DType::kBF16);
  half_ = HalfOf(weight_dtype_);
  LANTERN_RETURN_IF_ERROR(Setup());
  LANTERN_RETURN_IF_ERROR(tc::SetDevice(device_.index));
  LANTERN_ASSIGN_OR_RETURN(stream_, tc::CreateStream());
  LANTERN_ASSIGN_OR_RETURN(tc::Gemm gemm, tc::Gemm::Create(stream_));
  gemm_.emplace(std::move(gemm));
  LANTERN_ASSIGN_OR_RETURN(tc::EventTimer timer, tc::EventTimer::Create());
  timer_.emplace(std::move(timer));
  const size_t half = rope_.inv_freq.size();
  LANTERN_ASSIGN_OR_RETURN(inv_freq_, tc::DeviceBuffer::Allocate(half * sizeof(double)));
  LANTERN_RETURN_IF_ERROR(
      tc::CopyToDevice(inv_freq_.get(), rope_.inv_freq.data(), half * sizeof(double), stream_));
  return tc::Synchronize(stream_);
}

CudaLlamaModel::~CudaLlamaModel() {
  if (stream_ == nullptr) return;
  (void)tc::SetDevice(device_.index);
  (void)tc::Synchronize(stream_);
  graphs_.clear();
  gemm_.reset();
  timer_.reset();
  tc::DestroyStream(stream_);
}

// ---- KV cache and memory ----------------------------------------------------------------

std::unique_ptr<KvCache> CudaLlamaModel::NewKvCache(int num_blocks, int block_size,
                                                    std::optional<DType> kv_dtype) const {
  const DType dtype = kv_dtype.value_or(AutoKvCacheDType());
  if (dtype == DType::kF32 || num_blocks < 1 || !tc::SetDevice(device_.index).ok()) return nullptr;
  const ModelConfig& c = config_;
  // One block more than asked: the padding rows of graph batches write there, and the
  // engine never hands it out (its pool has num_blocks).
  const int blocks = num_blocks + 1;
  const size_t bytes = KvCache::BytesPerBlock(c.num_hidden_layers, block_size,
                                              c.num_key_value_heads, c.head_dim, dtype) *
                       static_cast<size_t>(blocks);
  auto buffer = tc::DeviceBuffer::Allocate(bytes);
  if (!buffer.ok()) return nullptr;
  // Zeros: attention over a block never written (the pad block) reads finite values.
  if (!tc::Memset(buffer->get(), 0, bytes, stream_).ok() || !tc::Synchronize(stream_).ok()) {
    return nullptr;
  }
  auto* owned = new tc::DeviceBuffer(std::move(buffer).value());
  return std::make_unique<KvCache>(c.num_hidden_layers, blocks, block_size, c.num_key_value_heads,
                                   c.head_dim, dtype, device_, owned->get(),
                                   [owned](void*) { delete owned; });
}

tc::PagedKvLayer CudaLlamaModel::KvLayer(KvCache& kv, int layer) const {
  tc::PagedKvLayer l;
  l.keys = kv.key_block(layer, 0);
  l.values = kv.value_block(layer, 0);
  l.block_stride = static_cast<int64_t>(kv.elements_per_block());
  l.block_size = kv.block_size();
  l.num_kv_heads = kv.num_kv_heads();
  l.head_dim = kv.head_dim();
  l.type = HalfOf(kv.dtype());
  return l;
}

Status CudaLlamaModel::EnsureWorkspace(int64_t rows, int64_t logit_rows, size_t attention_bytes,
                                       size_t meta_bytes) {
  if (rows <= ws_.rows && logit_rows <= ws_.logit_rows && attention_bytes <= ws_.attention_bytes &&
      meta_bytes <= ws_.meta_bytes) {
    return Status::Ok();
  }
  // New addresses: graphs recorded over the old ones are dropped.
  graphs_.clear();
  rows = std::max(rows, ws_.rows);
  logit_rows = std::max(logit_rows, ws_.logit_rows);
  attention_bytes = std::max(attention_bytes, ws_.attention_bytes);
  meta_bytes = std::max(meta_bytes, ws_.meta_bytes);
  ws_ = Workspace{};
  const ModelConfig& c = config_;
  const size_t r = static_cast<size_t>(rows), lr = static_cast<size_t>(logit_rows);
  const size_t h = static_cast<size_t>(c.hidden_size),
               ffn = static_cast<size_t>(c.intermediate_size);
  const size_t sizes[] = {r * h * 4,
                          r * h * 2,
                          r * static_cast<size_t>(qkv_dim_) * 4,
                          r * static_cast<size_t>(q_dim_) * 2,
                          r * 2 * ffn * 4,
                          r * ffn * 2,
                          lr * h * 4,
                          lr * static_cast<size_t>(c.vocab_size) * 4,
                          attention_bytes,
                          meta_bytes};
  size_t total = 0;
  for (size_t s : sizes) total += (s + 255) / 256 * 256;
  LANTERN_ASSIGN_OR_RETURN(ws_.buffer, tc::DeviceBuffer::Allocate(total));
  std::byte* at = ws_.buffer.as<std::byte>();
  void* parts[10];
  for (int i = 0; i < 10; ++i) {
    parts[i] = at;
    at += (sizes[i] + 255) / 256 * 256;
  }
  ws_.x = static_cast<float*>(parts[0]);
  ws_.normed = parts[1];
  ws_.qkv = static_cast<float*>(parts[2]);
  ws_.attn = parts[3];
  ws_.gate_up = static_cast<float*>(parts[4]);
  ws_.act = parts[5];
  ws_.head_in = static_cast<float*>(parts[6]);
  ws_.logits = static_cast<float*>(parts[7]);
  ws_.attention = parts[8];
  ws_.meta = static_cast<std::byte*>(parts[9]);
  ws_.rows = rows;
  ws_.logit_rows = logit_rows;
  ws_.attention_bytes = attention_bytes;
  ws_.meta_bytes = meta_bytes;
  if (meta_host_.bytes() < meta_bytes) {
    LANTERN_ASSIGN_OR_RETURN(meta_host_, tc::PinnedBuffer::Allocate(meta_bytes));
  }
  const size_t logits_bytes = lr * static_cast<size_t>(c.vocab_size) * 4;
  if (logits_host_.bytes() < logits_bytes) {
    LANTERN_ASSIGN_OR_RETURN(logits_host_, tc::PinnedBuffer::Allocate(logits_bytes));
  }
  return Status::Ok();
}

namespace {

// The kernels' view of a layout uploaded at `meta` (null: the sizes only).
tc::AttentionBatch AttentionOf(const DeviceBatchLayout& l, const std::byte* meta) {
  tc::AttentionBatch b;
  b.num_rows = l.num_rows;
  b.num_seqs = l.num_seqs;
  b.max_blocks_per_seq = l.blocks_per_seq;
  b.max_context = l.max_context;
  b.max_num_new = l.max_num_new;
  if (meta == nullptr) return b;
  b.d_row_seq = reinterpret_cast<const int32_t*>(meta + l.row_seq);
  b.d_row_pos = reinterpret_cast<const int32_t*>(meta + l.row_pos);
  b.d_row_slot = reinterpret_cast<const int64_t*>(meta + l.row_slot);
  b.d_seq_first_row = reinterpret_cast<const int32_t*>(meta + l.seq_first_row);
  b.d_seq_num_new = reinterpret_cast<const int32_t*>(meta + l.seq_num_new);
  b.d_seq_start_pos = reinterpret_cast<const int32_t*>(meta + l.seq_start_pos);
  b.d_block_tables = reinterpret_cast<const int32_t*>(meta + l.block_tables);
  return b;
}

}  // namespace

Result<std::optional<int64_t>> CudaLlamaModel::ReserveDeviceMemory(const EngineLimits& limits) {
  if (limits.kv_dtype == DType::kF32) {
    return InvalidArgument(
        "--kv-cache-dtype float32: the CUDA backend keeps the KV cache in "
        "bfloat16 or float16 (--kv-cache-dtype auto, bfloat16 or float16)");
  }
  LANTERN_RETURN_IF_ERROR(tc::SetDevice(device_.index));
  const ModelConfig& c = config_;
  max_model_len_ = limits.max_model_len > 0 ? limits.max_model_len : c.max_position_embeddings;
  block_size_ = limits.block_size;
  graph_sizes_ =
      enforce_eager_
          ? std::vector<int>{}
          : DecodeGraphSizes(std::min(limits.max_num_seqs, limits.max_num_batched_tokens));
  const int largest_graph = graph_sizes_.empty() ? 0 : graph_sizes_.back();
  const int rows = std::max(limits.max_num_batched_tokens, largest_graph);
  const int seqs = std::max(limits.max_num_seqs, largest_graph);
  const int blocks = (max_model_len_ + block_size_ - 1) / block_size_;
  // The attention scratch of the worst batches: a full prefill, a full decode batch.
  tc::AttentionBatch worst;
  worst.max_blocks_per_seq = blocks;
  worst.max_context = max_model_len_;
  size_t attention = 0;
  for (auto [r, s, n] : {std::tuple{rows, std::min(seqs, rows), limits.max_num_batched_tokens},
                         std::tuple{std::min(seqs, rows), std::min(seqs, rows), 1},
                         std::tuple{largest_graph, largest_graph, 1}}) {
    if (r <= 0) continue;
    worst.num_rows = r;
    worst.num_seqs = s;
    worst.max_num_new = n;
    attention = std::max(
        attention, tc::PagedAttentionWorkspaceBytes(worst, c.num_attention_heads, c.head_dim));
  }
  const size_t meta = DeviceBatchLayoutBytes({rows, seqs, blocks, rows});
  LANTERN_RETURN_IF_ERROR(EnsureWorkspace(rows, rows, attention, meta));
  LANTERN_ASSIGN_OR_RETURN(tc::DeviceInfo info, tc::GetDeviceInfo(device_.index));
  DeviceMemoryInput in;
  in.total_bytes = info.total_bytes;
  in.free_bytes = info.free_bytes;
  in.weight_bytes = weight_bytes_;
  in.workspace_bytes = ws_.buffer.bytes();
  in.graph_bytes = graph_sizes_.size() * (size_t{4} << 20);  // an estimate per graph
  in.utilization = utilization_;
  in.kv_bytes_per_block = KvBytesPerBlock(block_size_, limits.kv_dtype);
  LANTERN_ASSIGN_OR_RETURN(DeviceMemoryPlan plan, PlanDeviceMemory(in));
  // One block of the plan is the pad block NewKvCache adds.
  return std::optional<int64_t>(static_cast<int64_t>(plan.kv_bytes) -
                                static_cast<int64_t>(in.kv_bytes_per_block));
}

Result<int> CudaLlamaModel::PrepareSteps(KvCache& kv) {
  graphs_.clear();
  graph_kv_ = nullptr;
  if (graph_sizes_.empty() || kv.device() != device_) return 0;
  graph_kv_ = &kv;
  const int pad = kv.num_blocks() - 1;
  std::vector<int32_t> token = {0}, table = {pad};
  std::vector<float> logits;
  for (auto it = graph_sizes_.rbegin(); it != graph_sizes_.rend(); ++it) {
    Batch batch;
    for (int s = 0; s < *it; ++s) batch.sequences.push_back({token, 0, table});
    LANTERN_RETURN_IF_ERROR(Forward(batch, kv, &logits));
  }
  return static_cast<int>(graphs_.size());
}

// ---- Forward ----------------------------------------------------------------------------

Status CudaLlamaModel::Compute(const DeviceBatchLayout& layout, KvCache& kv) {
  const ModelConfig& c = config_;
  const int64_t h = c.hidden_size, ffn = c.intermediate_size, rows = layout.num_rows;
  const int hd = c.head_dim;
  const tc::AttentionBatch batch = AttentionOf(layout, ws_.meta);
  const int32_t* positions = batch.d_row_pos;
  const auto* ids = reinterpret_cast<const int32_t*>(ws_.meta + layout.token_ids);
  const auto* logit_rows = reinterpret_cast<const int32_t*>(ws_.meta + layout.logit_row_ids);
  const double* inv_freq = inv_freq_.as<double>();
  tc::Gemm& gemm = *gemm_;
  tc::EmbeddingGather(embed_.get(), half_, h, ids, rows, ws_.x, stream_);
  for (int i = 0; i < c.num_hidden_layers; ++i) {
    const Layer& l = layers_[i];
    // Attention: x += o_proj(attention(rope(qk_norm(qkv(rms_norm(x)))))).
    tc::RmsNorm(ws_.x, rows, h, l.attn_norm.as<float>(), eps(), ws_.normed, half_, stream_);
    LANTERN_RETURN_IF_ERROR(gemm.Linear(ws_.normed, rows, h, l.qkv.weight.get(), qkv_dim_, half_,
                                        ws_.qkv, qkv_dim_, false));
    if (qkv_bias_) tc::AddBias(ws_.qkv, rows, qkv_dim_, qkv_dim_, l.qkv.bias.as<float>(), stream_);
    float* q = ws_.qkv;
    float* k = q + q_dim_;
    float* v = k + kv_dim_;
    if (qk_norm_) {
      tc::GroupRmsNormInPlace(q, rows, qkv_dim_, c.num_attention_heads, hd, l.q_norm.as<float>(),
                              eps(), stream_);
      tc::GroupRmsNormInPlace(k, rows, qkv_dim_, c.num_key_value_heads, hd, l.k_norm.as<float>(),
                              eps(), stream_);
    }
    // The queries also take attention's 1/sqrt(head_dim) here, as on the CPU.
    tc::ApplyRope(q, rows, qkv_dim_, c.num_attention_heads, hd, positions, inv_freq,
                  rope_.attention_factor, 1.0f / std::sqrt(static_cast<float>(hd)), stream_);
    tc::ApplyRope(k, rows, qkv_dim_, c.num_key_value_heads, hd, positions, inv_freq,
                  rope_.attention_factor, 1.0f, stream_);
    const tc::PagedKvLayer kv_layer = KvLayer(kv, i);
    tc::WritePagedKv(kv_layer, batch, k, qkv_dim_, v, qkv_dim_, stream_);
    const int window = i >= c.max_window_layers ? c.sliding_window : 0;
    tc::PagedAttention(kv_layer, batch, q, qkv_dim_, c.num_attention_heads, ws_.attn, half_, q_dim_,
                       window, ws_.attention, ws_.attention_bytes, stream_);
    LANTERN_RETURN_IF_ERROR(gemm.Linear(ws_.attn, rows, q_dim_, l.o_proj.weight.get(), h, half_,
                                        ws_.x, h, /*accumulate=*/true));
    if (o_bias_) tc::AddBias(ws_.x, rows, h, h, l.o_proj.bias.as<float>(), stream_);
    // Feed-forward: x += down(silu(gate(rms_norm(x))) * up(rms_norm(x))).
    tc::RmsNorm(ws_.x, rows, h, l.ffn_norm.as<float>(), eps(), ws_.normed, half_, stream_);
    LANTERN_RETURN_IF_ERROR(gemm.Linear(ws_.normed, rows, h, l.gate_up.weight.get(), 2 * ffn, half_,
                                        ws_.gate_up, 2 * ffn, false));
    if (mlp_bias_) {
      tc::AddBias(ws_.gate_up, rows, 2 * ffn, 2 * ffn, l.gate_up.bias.as<float>(), stream_);
    }
    tc::SiluMul(ws_.gate_up, rows, ffn, ws_.act, half_, stream_);
    LANTERN_RETURN_IF_ERROR(gemm.Linear(ws_.act, rows, ffn, l.down.weight.get(), h, half_, ws_.x, h,
                                        /*accumulate=*/true));
    if (mlp_bias_) tc::AddBias(ws_.x, rows, h, h, l.down.bias.as<float>(), stream_);
  }
  // Only the rows whose logits were asked for go through the final norm and LM head.
  const int64_t n = layout.num_logit_rows;
  if (n == 0) return tc::LastLaunchError();
  tc::GatherRows(ws_.x, h, logit_rows, n, ws_.head_in, stream_);
  tc::RmsNorm(ws_.head_in, n, h, final_norm_.as<float>(), eps(), ws_.normed, half_, stream_);
  const void* head = c.tie_word_embeddings ? embed_.get() : lm_head_.get();
  LANTERN_RETURN_IF_ERROR(
      gemm.Linear(ws_.normed, n, h, head, c.vocab_size, half_, ws_.logits, c.vocab_size, false));
  return tc::LastLaunchError();
}

Status CudaLlamaModel::Forward(const Batch& batch, KvCache& kv, std::vector<float>* logits) {
  last_seconds_.reset();
  LANTERN_RETURN_IF_ERROR(ValidateBatch(batch, kv, config_, rope_.max_positions, device_));
  if (kv.dtype() == DType::kF32) {
    return InvalidArgument("the CUDA backend's KV cache is 16-bit, not float32");
  }
  LANTERN_RETURN_IF_ERROR(tc::SetDevice(device_.index));
  const int block_size = kv.block_size();
  // Pure decode over the engine's cache, every sequence asking for its logits: a graph of
  // the next size up replays the step (captured the first time it is needed).
  bool all_last = IsPureDecode(batch);
  for (const SequenceChunk& seq : batch.sequences) {
    all_last = all_last && seq.logits == SequenceChunk::Logits::kLast;
  }
  const int graph_size = all_last && &kv == graph_kv_ && block_size == block_size_
                             ? GraphSizeFor(graph_sizes_, static_cast<int>(batch.sequences.size()))
                             : 0;
  LayoutCapacity capacity;
  int max_context = 0;
  if (graph_size > 0) {
    const int blocks = (max_model_len_ + block_size - 1) / block_size;
    capacity = {graph_size, graph_size, blocks, graph_size};
    max_context = max_model_len_;  // a graph serves every context length
  } else {
    capacity = CapacityFor(batch, block_size);
  }
  DeviceBatchLayout layout;
  LANTERN_RETURN_IF_ERROR(BuildDeviceBatchLayout(batch, block_size, capacity, kv.num_blocks() - 1,
                                                 max_context, &layout));
  if (graph_size > 0) {  // the graph computes every row's logits; the real ones come first
    auto* ids = reinterpret_cast<int32_t*>(layout.image.data() + layout.logit_row_ids);
    for (int r = 0; r < graph_size; ++r) ids[r] = r;
    layout.num_logit_rows = graph_size;
  }
  const int64_t asked_rows =
      graph_size > 0 ? static_cast<int64_t>(batch.sequences.size()) : layout.num_logit_rows;
  const size_t attention = tc::PagedAttentionWorkspaceBytes(
      AttentionOf(layout, nullptr), config_.num_attention_heads, config_.head_dim);
  LANTERN_RETURN_IF_ERROR(EnsureWorkspace(layout.num_rows, std::max(layout.num_logit_rows, 1),
                                          attention, layout.image.size()));
  std::memcpy(meta_host_.get(), layout.image.data(), layout.image.size());
  LANTERN_RETURN_IF_ERROR(
      tc::CopyToDevice(ws_.meta, meta_host_.get(), layout.image.size(), stream_));
  LANTERN_RETURN_IF_ERROR(timer_->RecordStart(stream_));
  if (graph_size > 0) {
    auto it = graphs_.find(graph_size);
    if (it == graphs_.end()) {
      LANTERN_RETURN_IF_ERROR(StepGraph::BeginCapture(stream_));
      Status captured = Compute(layout, kv);
      auto graph = StepGraph::EndCapture(stream_);  // always ends the capture
      LANTERN_RETURN_IF_ERROR(captured);
      if (!graph.ok()) return graph.status();
      it = graphs_.emplace(graph_size, std::move(graph).value()).first;
    }
    LANTERN_RETURN_IF_ERROR(it->second.Launch(stream_));
  } else {
    LANTERN_RETURN_IF_ERROR(Compute(layout, kv));
  }
  LANTERN_RETURN_IF_ERROR(timer_->RecordStop(stream_));
  const size_t vocab = static_cast<size_t>(config_.vocab_size);
  const size_t bytes = static_cast<size_t>(asked_rows) * vocab * sizeof(float);
  if (bytes > 0) {
    LANTERN_RETURN_IF_ERROR(tc::CopyToHost(logits_host_.get(), ws_.logits, bytes, stream_));
  }
  LANTERN_RETURN_IF_ERROR(tc::Synchronize(stream_));
  logits->resize(static_cast<size_t>(asked_rows) * vocab);
  if (bytes > 0) std::memcpy(logits->data(), logits_host_.get(), bytes);
  LANTERN_ASSIGN_OR_RETURN(double seconds, timer_->ElapsedSeconds());
  last_seconds_ = seconds;
  return Status::Ok();
}

Result<DeviceDescription> DescribeDevice(int index) {
  std::string why;
  const int count = tc::DeviceCount(&why);
  if (count == 0)
    return FailedPrecondition("no CUDA device: " + (why.empty() ? "none found" : why));
  if (index < 0 || index >= count) {
    return FailedPrecondition("no CUDA device: cuda:" + std::to_string(index) + " asked, " +
                              std::to_string(count) + " present");
  }
  LANTERN_ASSIGN_OR_RETURN(tc::DeviceInfo info, tc::GetDeviceInfo(index));
  DeviceDescription d;
  d.name = info.name;
  d.sm_major = info.sm_major;
  d.sm_minor = info.sm_minor;
  d.total_bytes = info.total_bytes;
  d.free_bytes = info.free_bytes;
  return d;
}

Result<std::unique_ptr<Model>> LoadCudaLlama(const std::filesystem::path& model_dir,
                                             const LoadOptions& options) {
  LANTERN_RETURN_IF_ERROR(DescribeDevice(options.device.index).status());
  LANTERN_ASSIGN_OR_RETURN(ModelConfig config, LoadModelConfig(model_dir));
  if (config.architecture != Architecture::kLlama) {
    return Unimplemented("--device cuda serves the Llama family (llama, mistral, qwen2, qwen3); " +
                         config.model_type + " runs on the CPU only");
  }
  if (options.quantization != Quantization::kNone) {
    return Unimplemented("--device cuda: --quantization int8 is CPU-only");
  }
  LANTERN_ASSIGN_OR_RETURN(WeightStore store, WeightStore::Open(model_dir));
  auto model = std::make_unique<CudaLlamaModel>(config, options);
  LANTERN_RETURN_IF_ERROR(model->Init(options.dtype, CheckpointType(store)));
  LANTERN_RETURN_IF_ERROR(model->Load(store, options));
  return std::unique_ptr<Model>(std::move(model));
}

Result<std::unique_ptr<Model>> NewRandomCudaLlama(const ModelConfig& config, uint64_t seed,
                                                  const LoadOptions& options) {
  LANTERN_RETURN_IF_ERROR(DescribeDevice(options.device.index).status());
  if (options.quantization != Quantization::kNone) {
    return Unimplemented("--device cuda: --quantization int8 is CPU-only");
  }
  auto model = std::make_unique<CudaLlamaModel>(config, options);
  LANTERN_RETURN_IF_ERROR(model->Init(options.dtype, DType::kBF16));
  LANTERN_RETURN_IF_ERROR(model->InitRandom(seed));
  return std::unique_ptr<Model>(std::move(model));
}

}  // namespace lantern::model::cuda
