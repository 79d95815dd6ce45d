// The CUDA Llama model's class, shared by its files (cuda_llama.cc: forward, KV cache,
// memory; cuda_weights.cc: weights). Internal to the plugin.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/cuda/graph.h"
#include "model/cuda/upload.h"
#include "model/device_plan.h"
#include "model/model.h"
#include "model/rope_scaling.h"
#include "tensor/cuda/cuda_ops.h"

namespace lantern::model::cuda {

struct DeviceLinear {
  tc::DeviceBuffer weight;  // [out][in] in the weights' 16-bit type, as nn.Linear stores it
  tc::DeviceBuffer bias;    // [out] fp32, or empty
  int64_t in = 0, out = 0;
};

struct Layer {
  tc::DeviceBuffer attn_norm, ffn_norm, q_norm, k_norm;  // fp32
  DeviceLinear qkv, o_proj, gate_up, down;
};

// Per-step buffers carved out of one allocation; their addresses are what graphs record.
struct Workspace {
  tc::DeviceBuffer buffer;
  int64_t rows = 0, logit_rows = 0;
  size_t attention_bytes = 0, meta_bytes = 0;
  float* x = nullptr;
  void* normed = nullptr;
  float* qkv = nullptr;
  void* attn = nullptr;
  float* gate_up = nullptr;
  void* act = nullptr;
  float* head_in = nullptr;
  float* logits = nullptr;
  void* attention = nullptr;
  std::byte* meta = nullptr;
};

inline tc::Half HalfOf(DType type) {
  return type == DType::kF16 ? tc::Half::kF16 : tc::Half::kBF16;
}

class CudaLlamaModel final : public Model {
 public:
  CudaLlamaModel(const ModelConfig& config, const LoadOptions& options)
      : config_(config),
        device_{Device::Kind::kCuda, options.device.index},
        utilization_(options.gpu_memory_utilization),
        enforce_eager_(options.enforce_eager) {}
  ~CudaLlamaModel() override;

  const ModelConfig& config() const override { return config_; }
  Device device() const override { return device_; }
  std::unique_ptr<KvCache> NewKvCache(int num_blocks, int block_size,
                                      std::optional<DType> kv_dtype) const override;
  Result<std::optional<int64_t>> ReserveDeviceMemory(const EngineLimits& limits) override;
  Result<int> PrepareSteps(KvCache& kv) override;
  std::optional<double> LastForwardDeviceSeconds() const override { return last_seconds_; }
  Status Forward(const Batch& batch, KvCache& kv, std::vector<float>* logits) override;

  Status Init(std::optional<DType> requested, DType checkpoint_type);
  Status Load(const WeightStore& store, const LoadOptions& options);
  Status InitRandom(uint64_t seed);

 private:
  Status Setup();
  Status EnsureWorkspace(int64_t rows, int64_t logit_rows, size_t attention_bytes,
                         size_t meta_bytes);
  Status Compute(const DeviceBatchLayout& layout, KvCache& kv);
  tc::PagedKvLayer KvLayer(KvCache& kv, int layer) const;
  Result<DeviceLinear> UploadFused(Uploader& up, const WeightStore& store,
                                   const std::vector<std::pair<std::string, int64_t>>& parts,
                                   int64_t in, bool with_bias, uint64_t* done, uint64_t total,
                                   const LoadOptions& options);
  float eps() const { return static_cast<float>(config_.rms_norm_eps); }
  // Records the bytes the weights take on the device once they are uploaded.
  void CountWeights();

  ModelConfig config_;
  Device device_;
  double utilization_ = 0.9;
  bool enforce_eager_ = false;
  tc::Half half_ = tc::Half::kBF16;
  RopeParameters rope_;
  int64_t q_dim_ = 0, kv_dim_ = 0, qkv_dim_ = 0;
  bool qkv_bias_ = false, o_bias_ = false, mlp_bias_ = false, qk_norm_ = false;

  tc::Stream stream_ = nullptr;
  std::optional<tc::Gemm> gemm_;
  std::optional<tc::EventTimer> timer_;
  tc::DeviceBuffer inv_freq_;  // double [head_dim / 2]
  tc::DeviceBuffer embed_;     // [vocab][hidden], 16-bit; also the LM head when tied
  tc::DeviceBuffer lm_head_;   // [vocab][hidden] when untied
  tc::DeviceBuffer final_norm_;
  std::vector<Layer> layers_;

  Workspace ws_;
  tc::PinnedBuffer meta_host_, logits_host_;
  std::optional<double> last_seconds_;
  // Engine limits (ReserveDeviceMemory); 0 before.
  int max_model_len_ = 0;
  int block_size_ = 16;
  std::vector<int> graph_sizes_;
  std::map<int, StepGraph> graphs_;    // by padded decode batch size
  const KvCache* graph_kv_ = nullptr;  // the cache the graphs read and write
};

// The type most of a checkpoint's values have.
DType CheckpointType(const WeightStore& store);

}  // namespace lantern::model::cuda
