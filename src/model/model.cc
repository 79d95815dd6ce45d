// LoadModel: reads config.json, opens the weights and hands both to the architecture.
#include "model/model.h"

#include "model/dense.h"
#include "model/device_backend.h"
#include "model/gpt2.h"
#include "model/llama.h"
#include "model/opt.h"
#include "model/weights.h"

namespace lantern::model {

Result<std::unique_ptr<Model>> LoadModel(const std::filesystem::path& model_dir,
                                         const LoadOptions& options) {
  if (options.device.is_cuda()) return LoadCudaModel(model_dir, options);
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
