#include "server/model_source.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <system_error>

namespace lantern::server {
namespace fs = std::filesystem;

namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

bool IsDirectory(const fs::path& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

// Repo ids are "name" or "org/name" made of [A-Za-z0-9._-].
bool LooksLikeRepoId(const std::string& model) {
  if (model.empty() || model.front() == '/' || model.front() == '.') return false;
  int slashes = 0;
  for (char c : model) {
    if (c == '/') {
      ++slashes;
    } else if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return slashes <= 1 && model.find("..") == std::string::npos && model.back() != '/';
}

bool IsCommitHash(const std::string& s) {
  if (s.size() != 40) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

std::vector<fs::path> HuggingFaceCacheDirs() {
  std::vector<fs::path> dirs;
  if (auto v = Env("HF_HUB_CACHE"); !v.empty()) dirs.emplace_back(v);
  if (auto v = Env("HF_HOME"); !v.empty()) dirs.push_back(fs::path(v) / "hub");
  if (auto v = Env("XDG_CACHE_HOME"); !v.empty()) dirs.push_back(fs::path(v) / "huggingface/hub");
  if (auto v = Env("HOME"); !v.empty()) dirs.push_back(fs::path(v) / ".cache/huggingface/hub");
  return dirs;
}

Result<fs::path> ResolveModelPath(const std::string& model, const std::string& revision,
                                  const std::vector<fs::path>& cache_dirs) {
  if (IsDirectory(model)) return fs::path(model);
  std::string looked = "\n  " + model + " (not a directory)";
  if (!LooksLikeRepoId(model)) {
    return NotFound("model '" + model + "' not found: it is neither a directory nor a Hugging " +
                    "Face repo id (org/name). Looked at:" + looked);
  }
  // "org/name" -> "models--org--name"
  std::string folder = "models--";
  for (char c : model) folder += (c == '/') ? std::string("--") : std::string(1, c);
  const std::string rev = revision.empty() ? "main" : revision;
  for (const auto& cache : cache_dirs) {
    fs::path repo = cache / folder;
    if (!IsDirectory(repo)) {
      looked += "\n  " + repo.string() + " (no such directory)";
      continue;
    }
    std::string hash;
    fs::path ref = repo / "refs" / rev;
    if (std::ifstream in(ref); in) {
      std::getline(in, hash);
      while (!hash.empty() && std::isspace(static_cast<unsigned char>(hash.back())))
        hash.pop_back();
    } else if (IsCommitHash(rev)) {
      hash = rev;
    }
    if (hash.empty() || hash.find('/') != std::string::npos ||
        hash.find("..") != std::string::npos) {
      looked += "\n  " + ref.string() + " (no such revision)";
      continue;
    }
    fs::path snapshot = repo / "snapshots" / hash;
    if (IsDirectory(snapshot)) return snapshot;
    looked += "\n  " + snapshot.string() + " (snapshot missing)";
  }
  if (cache_dirs.empty()) looked += "\n  (no Hugging Face cache directory: HOME is not set)";
  return NotFound("model '" + model + "' (revision '" + rev +
                  "') not found locally; lantern does not download models. Looked at:" + looked);
}

}  // namespace lantern::server
