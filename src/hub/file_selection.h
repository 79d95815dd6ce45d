// Which files of a repo serving needs: the configs, the tokenizer and chat-template files
// and one weight format (safetensors, with its index and the shards it names; PyTorch
// pytorch_model.bin only when there is no safetensors). Never `original/`, *.gguf, *.onnx,
// *.pth, images or anything else: only top-level files named here are fetched.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "hub/hub_api.h"

namespace lantern::hub {

struct FileSelection {
  // Fetched first: configs, tokenizer files, the weight index if any.
  std::vector<std::string> metadata;
  // The weight index among `metadata` ("" when the weights are one file).
  std::string weight_index;
  // The weight files when there is no index; with one, WeightsFromIndex names them.
  std::vector<std::string> weights;
};

Result<FileSelection> SelectFiles(const std::vector<RepoFile>& files);

// The shard files an index's "weight_map" names, each once, sorted; each must be among
// `files`.
Result<std::vector<std::string>> WeightsFromIndex(const std::string& index_json,
                                                  const std::vector<RepoFile>& files);

}  // namespace lantern::hub
