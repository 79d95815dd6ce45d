#include "hub/file_selection.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

namespace lantern::hub {

namespace {

// What lantern's loaders read (model/, tokenizer/, engine/generation_config) and what the
// Python stack keeps beside them, so that the snapshot also serves other tools.
constexpr const char* kMetadataFiles[] = {
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.json",
    "merges.txt",
    "vocab.txt",
    "tokenizer.model",
    "chat_template.jinja",
    "chat_template.json",
};

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool TopLevel(const std::string& path) { return path.find('/') == std::string::npos; }

}  // namespace

Result<FileSelection> SelectFiles(const std::vector<RepoFile>& files) {
  std::set<std::string> names;
  for (const auto& f : files) names.insert(f.path);
  FileSelection selection;
  for (const char* name : kMetadataFiles) {
    if (names.count(name)) selection.metadata.push_back(name);
  }
  if (!names.count("config.json")) {
    return NotFound(
        "the repo has no config.json: it is not a Transformers model lantern can serve");
  }
  std::vector<std::string> safetensors;
  for (const auto& name : names) {
    if (TopLevel(name) && EndsWith(name, ".safetensors")) safetensors.push_back(name);
  }
  if (names.count("model.safetensors.index.json")) {
    selection.weight_index = "model.safetensors.index.json";
  } else if (names.count("model.safetensors")) {
    selection.weights = {"model.safetensors"};
  } else if (!safetensors.empty()) {
    selection.weights = safetensors;
  } else if (names.count("pytorch_model.bin.index.json")) {
    selection.weight_index = "pytorch_model.bin.index.json";
  } else if (names.count("pytorch_model.bin")) {
    selection.weights = {"pytorch_model.bin"};
  } else {
    return NotFound(
        "the repo has no weights lantern can load (model.safetensors, sharded "
        "safetensors with model.safetensors.index.json, or pytorch_model.bin)");
  }
  if (!selection.weight_index.empty()) selection.metadata.push_back(selection.weight_index);
  return selection;
}

Result<std::vector<std::string>> WeightsFromIndex(const std::string& index_json,
                                                  const std::vector<RepoFile>& files) {
  nlohmann::json doc = nlohmann::json::parse(index_json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("weight_map") ||
      !doc["weight_map"].is_object()) {
    return DataLoss("the weight index has no \"weight_map\" object");
  }
  std::set<std::string> listed;
  for (const auto& f : files) listed.insert(f.path);
  std::vector<std::string> shards;
  for (const auto& [tensor, shard] : doc["weight_map"].items()) {
    if (!shard.is_string()) return DataLoss("weight_map[\"" + tensor + "\"] is not a file name");
    std::string name = shard.get<std::string>();
    if (std::find(shards.begin(), shards.end(), name) != shards.end()) continue;
    if (!listed.count(name)) {
      return NotFound("the weight index names " + name + ", which the repo does not have");
    }
    shards.push_back(name);
  }
  if (shards.empty()) return DataLoss("the weight index names no files");
  std::sort(shards.begin(), shards.end());
  return shards;
}

}  // namespace lantern::hub
