// The Llama family on a CUDA device (issue 20): the same configs as model/llama.h (GQA,
// head_dim, rope scaling, q/k/v and MLP biases, Qwen3's q/k norm, tied head, sliding
// window) computed with tensor/cuda/cuda_ops.h. Weights in BF16 or FP16 on the device (an
// F32 checkpoint is converted), q|k|v and gate|up fused as on the CPU, the residual stream
// in fp32, the KV cache on the device, CUDA graphs for pure-decode batches.
#pragma once

#include <filesystem>
#include <memory>

#include "base/status.h"
#include "model/config.h"
#include "model/device_backend.h"
#include "model/model.h"

namespace lantern::model::cuda {

Result<DeviceDescription> DescribeDevice(int index);
Result<std::unique_ptr<Model>> LoadCudaLlama(const std::filesystem::path& model_dir,
                                             const LoadOptions& options);
Result<std::unique_ptr<Model>> NewRandomCudaLlama(const ModelConfig& config, uint64_t seed,
                                                  const LoadOptions& options);

}  // namespace lantern::model::cuda
