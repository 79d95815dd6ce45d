#include "hub/cache_layout.h"

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <fstream>
#include <system_error>

namespace lantern::hub {
namespace fs = std::filesystem;

namespace {

bool IsDirectory(const fs::path& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

// A name unique to this process and call, beside `path`, for write-then-rename.
fs::path TempBeside(const fs::path& path) {
  static std::atomic<unsigned> counter{0};
  return fs::path(path.string() + ".tmp." + std::to_string(getpid()) + "." +
                  std::to_string(counter++));
}

}  // namespace

bool LooksLikeRepoId(const std::string& text) {
  if (text.empty() || text.front() == '/' || text.front() == '.' || text.back() == '/') {
    return false;
  }
  int slashes = 0;
  for (char c : text) {
    if (c == '/') {
      ++slashes;
    } else if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return slashes <= 1 && text.find("..") == std::string::npos;
}

bool IsCommitHash(const std::string& text) {
  if (text.size() != 40) return false;
  for (char c : text) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsSafeRepoPath(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.find('\\') != std::string::npos ||
      path.find('\0') != std::string::npos) {
    return false;
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

RepoCache::RepoCache(fs::path cache_dir, const std::string& repo_id)
    : cache_dir_(std::move(cache_dir)), folder_("models--") {
  for (char c : repo_id) folder_ += (c == '/') ? std::string("--") : std::string(1, c);
  dir_ = cache_dir_ / folder_;
}

fs::path RepoCache::Lock(const std::string& etag) const {
  return cache_dir_ / ".locks" / folder_ / (etag + ".lock");
}

Result<std::string> RepoCache::ReadRef(const std::string& revision) const {
  std::string hash;
  if (IsSafeRepoPath(revision)) {
    if (std::ifstream in(dir_ / "refs" / revision); in) std::getline(in, hash);
  }
  while (!hash.empty() && std::isspace(static_cast<unsigned char>(hash.back()))) hash.pop_back();
  if (hash.empty() && IsCommitHash(revision)) hash = revision;
  // A ref is written by us or by huggingface_hub; anything else must not name a path.
  if (hash.empty() || !IsSafeRepoPath(hash)) {
    return NotFound((dir_ / "refs" / revision).string() + " (no such revision)");
  }
  return hash;
}

Status RepoCache::WriteRef(const std::string& revision, const std::string& commit) const {
  if (revision == commit) return Status::Ok();  // commits are looked up directly
  if (!IsSafeRepoPath(revision)) return InvalidArgument("invalid revision '" + revision + "'");
  fs::path ref = dir_ / "refs" / revision;
  std::error_code ec;
  fs::create_directories(ref.parent_path(), ec);
  fs::path temp = TempBeside(ref);
  {
    std::ofstream out(temp, std::ios::trunc);
    out << commit;
    if (!out.flush()) return Internal("cannot write " + temp.string());
  }
  fs::rename(temp, ref, ec);
  if (ec) {
    fs::remove(temp, ec);
    return Internal("cannot write " + ref.string() + ": " + ec.message());
  }
  return Status::Ok();
}

Status RepoCache::Link(const std::string& commit, const std::string& path,
                       const std::string& etag) const {
  fs::path pointer = Snapshot(commit) / path;
  std::error_code ec;
  fs::create_directories(pointer.parent_path(), ec);
  fs::path target = fs::relative(Blob(etag), pointer.parent_path(), ec);
  if (ec || target.empty()) return Internal("cannot link " + pointer.string() + " to its blob");
  // Symlink under a temporary name, then rename over: two processes linking the same file
  // at once both succeed and leave one whole link.
  fs::path temp = TempBeside(pointer);
  fs::create_symlink(target, temp, ec);
  if (!ec) fs::rename(temp, pointer, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    return Internal("cannot create " + pointer.string() + ": " + ec.message());
  }
  return Status::Ok();
}

Result<fs::path> FindSnapshot(const std::string& repo_id, const std::string& revision,
                              const std::vector<fs::path>& cache_dirs) {
  const std::string rev = revision.empty() ? "main" : revision;
  std::string looked;
  for (const auto& cache : cache_dirs) {
    RepoCache repo(cache, repo_id);
    if (!IsDirectory(repo.dir())) {
      looked += "\n  " + repo.dir().string() + " (no such directory)";
      continue;
    }
    auto commit = repo.ReadRef(rev);
    if (!commit.ok()) {
      looked += "\n  " + commit.status().message();
      continue;
    }
    fs::path snapshot = repo.Snapshot(*commit);
    if (IsDirectory(snapshot)) return snapshot;
    looked += "\n  " + snapshot.string() + " (snapshot missing)";
  }
  if (cache_dirs.empty()) looked += "\n  (no Hugging Face cache directory: HOME is not set)";
  return NotFound("model '" + repo_id + "' (revision '" + rev +
                  "') is not in the local Hugging Face cache. Looked at:" + looked);
}

}  // namespace lantern::hub
