// LoadModel: reads config.json, opens the weights and hands both to the architecture.
#include "model/model.h"

#include "model/dense.h"
#include "model/gpt2.h"
#include "model/llama.h"
#include "model/opt.h"
#include "model/weights.h"

namespace lantern::model {

std::unique_ptr<KvCache> Model::NewKvCache(int num_blocks, int block_size,
                                           std::optional<DType> kv_dtype) const {
  const ModelConfig& c = config();
  return std::make_unique<KvCache>(c.num_hidden_layers, num_blocks, block_size,
                                   c.num_key_value_heads, c.head_dim,
                                   kv_dtype.value_or(AutoKvCacheDType()));
}

size_t Model::KvBytesPerBlock(int block_size, std::optional<DType> kv_dtype) const {
  const ModelConfig& c = config();
  return KvCache::BytesPerBlock(c.num_hidden_layers, block_size, c.num_key_value_heads, c.head_dim,
                                kv_dtype.value_or(AutoKvCacheDType()));
}

Result<std::unique_ptr<Model>> LoadModel(const std::filesystem::path& model_dir,
                                         const LoadOptions& options) {
  LANTERN_ASSIGN_OR_RETURN(ModelConfig config, LoadModelConfig(model_dir));
  LANTERN_ASSIGN_OR_RETURN(WeightStore weights, WeightStore::Open(model_dir));
  LoadProgressScope progress(options.progress, weights.total_bytes());
  switch (config.architecture) {
    case Architecture::kOpt:
      return LoadOptModel(config, weights, options);
    case Architecture::kLlama:
      return LoadLlamaModel(config, weights, options);
    case Architecture::kGpt2:
      return LoadGpt2Model(config, weights, options);
  }
  return Internal("unknown architecture for " + config.model_type);
}

}  // namespace lantern::model
