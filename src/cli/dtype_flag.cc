#include "cli/dtype_flag.h"

namespace lantern::cli {

const std::vector<std::string>& DTypeFlagValues() {
  static const std::vector<std::string> values = {"auto", "bfloat16", "float16",
                                                  "half", "float32",  "float"};
  return values;
}

Result<std::optional<model::DType>> ParseDTypeFlag(const std::string& value) {
  if (value == "auto") return std::optional<model::DType>();
  if (value == "bfloat16") return std::optional<model::DType>(model::DType::kBF16);
  if (value == "float16" || value == "half") {
    return std::optional<model::DType>(model::DType::kF16);
  }
  if (value == "float32" || value == "float") {
    return std::optional<model::DType>(model::DType::kF32);
  }
  return InvalidArgument("--dtype: '" + value +
                         "' is not one of auto, bfloat16, float16 (half), float32 (float)");
}

const char* DTypeFlagName(model::DType dtype) {
  switch (dtype) {
    case model::DType::kBF16:
      return "bfloat16";
    case model::DType::kF16:
      return "float16";
    case model::DType::kF32:
      break;
  }
  return "float32";
}

const std::vector<std::string>& KvCacheDTypeFlagValues() {
  static const std::vector<std::string> values = {"auto", "float32", "bfloat16", "float16"};
  return values;
}

Result<std::optional<model::DType>> ParseKvCacheDTypeFlag(const std::string& value) {
  if (value == "auto") return std::optional<model::DType>();
  if (value == "float32") return std::optional<model::DType>(model::DType::kF32);
  if (value == "bfloat16") return std::optional<model::DType>(model::DType::kBF16);
  if (value == "float16") return std::optional<model::DType>(model::DType::kF16);
  std::string why = "is not one of auto (16 bits), float32, bfloat16, float16";
  if (value.starts_with("fp8")) {
    why =
        "is not supported: the KV cache is kept in auto (16 bits), float32, bfloat16 or "
        "float16 on the CPU (there are no fp8 kernels)";
  }
  return InvalidArgument("--kv-cache-dtype: '" + value + "' " + why);
}

const std::vector<std::string>& QuantizationFlagValues() {
  static const std::vector<std::string> values = {"none", "int8"};
  return values;
}

Result<model::Quantization> ParseQuantizationFlag(const std::string& value) {
  if (value == "none") return model::Quantization::kNone;
  if (value == "int8") return model::Quantization::kInt8;
  return InvalidArgument("--quantization: '" + value +
                         "' is not supported (none, int8: weight-only, quantized at load)");
}

std::string WeightsDescription(const model::Model& model) {
  return model.int8_weights() ? "int8" : DTypeFlagName(model.weight_dtype());
}

}  // namespace lantern::cli
