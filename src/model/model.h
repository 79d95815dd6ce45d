// The model interface of DESIGN.md: forward(batch, kv) -> logits over a paged KV cache.
// A batch concatenates the new tokens of several sequences; each carries its start
// position and its block table. Prefill chunks and decode tokens travel together.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/config.h"
#include "model/device.h"
#include "model/weights.h"

namespace lantern::model {

// The K and V storage of every layer, as fixed-size blocks of `block_size` token slots.
// Block ids are indices into this pool; the engine's block manager hands them out.
// Elements are `dtype` (vLLM's --kv-cache-dtype): fp32, or bfloat16 / IEEE half, two bytes
// each, so a pool of the same bytes holds twice the tokens.
class KvCache {
 public:
  KvCache(int num_layers, int num_blocks, int block_size, int num_kv_heads, int head_dim,
          DType dtype = DType::kF32);
  // Over storage someone else allocated (a device model's pool in GPU memory): `storage`
  // holds bytes() bytes in the layout below on `device`; `release(storage)` runs when the
  // cache is destroyed. Its blocks are only ever read by that device's model.
  KvCache(int num_layers, int num_blocks, int block_size, int num_kv_heads, int head_dim,
          DType dtype, Device device, void* storage, std::function<void(void*)> release);
  KvCache(const KvCache&) = delete;
  KvCache& operator=(const KvCache&) = delete;

  int num_layers() const { return num_layers_; }
  int num_blocks() const { return num_blocks_; }
  int block_size() const { return block_size_; }
  int num_kv_heads() const { return num_kv_heads_; }
  int head_dim() const { return head_dim_; }
  DType dtype() const { return dtype_; }
  const Device& device() const { return device_; }
  size_t bytes() const { return num_elements_ * DTypeSize(dtype_); }
  static size_t BytesPerBlock(int num_layers, int block_size, int num_kv_heads, int head_dim,
                              DType dtype);

  // Layout of one layer's blocks: K is [block][kv_head][head_dim][slot] (slots are the
  // fast axis: one vector FMA chain over head_dim scores 16 slots at once), V is
  // [block][kv_head][slot][head_dim]. Either way one head's data of a block is contiguous
  // (tensor/attention.h reads them as tensor::PagedKvLayer). The pointers are to elements
  // of dtype(): float, or the uint16_t bits of a 16-bit float.
  void* key_block(int layer, int block) { return At(Offset(layer, block, 0)); }
  void* value_block(int layer, int block) { return At(Offset(layer, block, 1)); }
  const void* key_block(int layer, int block) const { return At(Offset(layer, block, 0)); }
  const void* value_block(int layer, int block) const { return At(Offset(layer, block, 1)); }
  size_t elements_per_block() const { return elements_per_block_; }

 private:
  size_t Offset(int layer, int block, int kv) const {
    return ((static_cast<size_t>(layer) * 2 + kv) * num_blocks_ + block) * elements_per_block_;
  }
  void* At(size_t element) const {
    return static_cast<char*>(storage_.get()) + element * DTypeSize(dtype_);
  }
  int num_layers_, num_blocks_, block_size_, num_kv_heads_, head_dim_;
  DType dtype_;
  size_t elements_per_block_;
  size_t num_elements_;
  Device device_;
  // Host caches: anonymous zero pages (munmap), committed as blocks are first written, so a
  // large pool costs nothing at start-up. External storage: its release function.
  struct Release {
    std::function<void(void*)> release;
    void operator()(void* p) const {
      if (p != nullptr && release) release(p);
    }
  };
  std::unique_ptr<void, Release> storage_;
};

// The new tokens of one sequence in a batch.
struct SequenceChunk {
  std::span<const int32_t> tokens;       // tokens to compute now (a prefill chunk or 1)
  int32_t start_position = 0;            // position of tokens[0]; KV holds [0, start)
  std::span<const int32_t> block_table;  // covers positions [0, start + tokens.size())
  // Which logits to return for this sequence: none (a prefill chunk that is not the last),
  // the last token's (the usual case), or every token's (prompt logprobs).
  enum class Logits : uint8_t { kNone, kLast, kAll } logits = Logits::kLast;
};

struct Batch {
  std::vector<SequenceChunk> sequences;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual const ModelConfig& config() const = 0;

  // Allocates a KV cache laid out for this model, its elements `kv_dtype` (unset: vLLM's
  // --kv-cache-dtype auto, AutoKvCacheDType()), in host memory; a device model allocates it
  // on its device. Null when the allocation fails.
  virtual std::unique_ptr<KvCache> NewKvCache(int num_blocks, int block_size = 16,
                                              std::optional<DType> kv_dtype = std::nullopt) const;
  size_t KvBytesPerBlock(int block_size = 16, std::optional<DType> kv_dtype = std::nullopt) const;
  // --kv-cache-dtype auto: 16 bits, IEEE half when the weights are kept in it, bfloat16
  // otherwise (its range is fp32's, so no activation overflows it).
  DType AutoKvCacheDType() const {
    return weight_dtype_ == DType::kF16 ? DType::kF16 : DType::kBF16;
  }

  // Computes the batch, writing K/V of the new tokens into their slots of `kv`, and
  // returns logits row-major [rows x vocab_size], rows in batch order as each sequence's
  // `logits` asks (kLast: 1 row, kAll: tokens.size() rows, kNone: 0 rows).
  virtual Status Forward(const Batch& batch, KvCache& kv, std::vector<float>* logits) = 0;

  // Where the model computes; its KV caches live there too.
  virtual Device device() const { return Device{}; }
  // A device model reserves what its steps need under these limits (activation workspace
  // for max_num_batched_tokens rows, graph pools) and returns the bytes its device has left
  // for the KV pool under --gpu-memory-utilization; an error when the weights and
  // activations do not fit. Host models return nullopt: the engine sizes the pool from host
  // memory (DefaultKvCacheMemory).
  struct EngineLimits {
    int max_num_seqs = 256;
    int max_num_batched_tokens = 2048;
    int max_model_len = 0;
    int block_size = 16;
    DType kv_dtype = DType::kBF16;
  };
  virtual Result<std::optional<int64_t>> ReserveDeviceMemory(const EngineLimits& limits) {
    return std::optional<int64_t>();
  }
  // Called once the engine's KV cache exists, before the first step: a device model
  // captures its decode graphs over it (nothing to do on the host). Returns how many.
  virtual Result<int> PrepareSteps(KvCache& kv) { return 0; }
  // The device's own time of the last Forward in seconds (CUDA events), or nullopt when the
  // model computes on the host and the caller's clock is the measure.
  virtual std::optional<double> LastForwardDeviceSeconds() const { return std::nullopt; }

  // The type the weights are kept in (--dtype), and the bytes they take in memory.
  DType weight_dtype() const { return weight_dtype_; }
  uint64_t weight_bytes() const { return weight_bytes_; }
  // Whether the linear layers and LM head hold int8 weights (--quantization int8).
  bool int8_weights() const { return int8_weights_; }

 protected:
  DType weight_dtype_ = DType::kF32;
  bool int8_weights_ = false;
  uint64_t weight_bytes_ = 0;
};

enum class Quantization { kNone, kInt8 };

struct LoadOptions {
  int num_threads = 0;  // 0: all cores
  // The type to keep the weights of linear layers and LM head in (vLLM's --dtype); unset:
  // as the checkpoint (ResolveWeightDType). Norms, biases and activations stay F32.
  std::optional<DType> dtype = std::nullopt;
  // kInt8: linear layers and the LM head quantized at load in blocks of 32 inputs with a
  // scale each (tensor/gemm8.h); untied embedding tables stay in `dtype`.
  Quantization quantization = Quantization::kNone;
  // Called on the loading thread after each tensor is read: bytes read so far, and the bytes
  // of the whole checkpoint (for a progress bar; tensors a model does not use never count).
  std::function<void(uint64_t done, uint64_t total)> progress = nullptr;
  // Where to compute (--device): the CPU, or a CUDA device through the plugin
  // (model/device_backend.h). The options below apply to a CUDA device only.
  Device device = Device{};
  // vLLM's --gpu-memory-utilization: the fraction of the GPU's total memory this process may
  // take, weights, activations and KV cache together.
  double gpu_memory_utilization = 0.9;
  // vLLM's --enforce-eager: no CUDA graphs, every step launched kernel by kernel.
  bool enforce_eager = false;
};

// Loads config.json and the weights of a Hugging Face model directory.
Result<std::unique_ptr<Model>> LoadModel(const std::filesystem::path& model_dir,
                                         const LoadOptions& options = {});

}  // namespace lantern::model
