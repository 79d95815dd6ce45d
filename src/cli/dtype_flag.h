// vLLM's --dtype for every command that loads a model: the type the weights are kept and
// read in. Values: auto (the checkpoint's: a 16-bit checkpoint stays 16-bit), bfloat16,
// float16 (alias half), float32 (alias float).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/weights.h"

namespace lantern::cli {

// The values --dtype accepts, for CLI11's IsMember check and --help.
const std::vector<std::string>& DTypeFlagValues();

// nullopt for "auto"; an error naming the accepted values otherwise.
Result<std::optional<model::DType>> ParseDTypeFlag(const std::string& value);

// "bfloat16", "float16" or "float32": how --dtype, spans and metrics name a type.
const char* DTypeFlagName(model::DType dtype);

}  // namespace lantern::cli
