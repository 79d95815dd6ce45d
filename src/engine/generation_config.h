// Reads a model's generation_config.json into the defaults vLLM takes from it.
#pragma once

#include <filesystem>
#include <string>

#include "base/status.h"
#include "engine/sampling_params.h"

namespace lantern::engine {

// Reads <model_dir>/generation_config.json. A missing file gives empty defaults; a file
// that is not valid JSON, or a field of the wrong type, is an error naming the file and field.
Result<GenerationDefaults> LoadGenerationConfig(const std::filesystem::path& model_dir);
// The same from JSON text; `source` names it in messages.
Result<GenerationDefaults> ParseGenerationConfig(const std::string& json_text,
                                                 const std::string& source);

}  // namespace lantern::engine
