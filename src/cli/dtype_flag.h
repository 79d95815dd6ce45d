// vLLM's --dtype and --quantization for every command that loads a model: the type the
// weights are kept and read in. --dtype: auto (the checkpoint's: a 16-bit checkpoint stays
// 16-bit), bfloat16, float16 (alias half), float32 (alias float). --quantization: none or
// int8 (weight-only, quantized at load; vLLM's other methods need their own checkpoints).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/model.h"
#include "model/weights.h"

namespace lantern::cli {

// The values --dtype accepts, for CLI11's IsMember check and --help.
const std::vector<std::string>& DTypeFlagValues();

// nullopt for "auto"; an error naming the accepted values otherwise.
Result<std::optional<model::DType>> ParseDTypeFlag(const std::string& value);

// "bfloat16", "float16" or "float32": how --dtype, spans and metrics name a type.
const char* DTypeFlagName(model::DType dtype);

// vLLM's --kv-cache-dtype: auto (16 bits: float16 when the weights are kept in it, bfloat16
// otherwise), float32, bfloat16, float16. vLLM's fp8 values are errors saying what is
// supported (no CPU kernel reads fp8 here). The help text lists only the values we take.
const std::vector<std::string>& KvCacheDTypeFlagValues();
// nullopt for "auto" (model::Model::AutoKvCacheDType()).
Result<std::optional<model::DType>> ParseKvCacheDTypeFlag(const std::string& value);

const std::vector<std::string>& QuantizationFlagValues();
Result<model::Quantization> ParseQuantizationFlag(const std::string& value);

// What the model's weights are, as logs, spans and metrics say it: "bfloat16", "int8", ...
std::string WeightsDescription(const model::Model& model);

}  // namespace lantern::cli
