// Finds a model given as `lantern serve MODEL` without the network: a directory, or a
// Hugging Face repo id ("facebook/opt-125m") looked up in the local Hugging Face cache the
// way huggingface_hub lays it out (hub/cache_layout.h: refs/<revision> names a snapshot,
// snapshots/<hash>/ holds the files). Fetching a missing repo is hub/download.h's job.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/status.h"

namespace lantern::server {

// The cache directories to search, in order: $HF_HUB_CACHE, $HF_HOME/hub,
// $XDG_CACHE_HOME/huggingface/hub, ~/.cache/huggingface/hub (each only when its variable is set).
std::vector<std::filesystem::path> HuggingFaceCacheDirs();

// `model` as a directory when it is one; else the snapshot of repo id `model` at
// `revision` (a branch or tag under refs/, or a commit hash) in `cache_dirs`. The error
// lists every place looked at.
Result<std::filesystem::path> ResolveModelPath(
    const std::string& model, const std::string& revision,
    const std::vector<std::filesystem::path>& cache_dirs);

}  // namespace lantern::server
