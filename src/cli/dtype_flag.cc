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
