// The Hugging Face cache as huggingface_hub lays it out, shared with Python tools:
//   <cache>/models--ORG--NAME/refs/<revision>          the commit hash a branch or tag names
//   <cache>/models--ORG--NAME/blobs/<etag>             file contents, named by git sha1 or
//                                                      (LFS files) sha256
//   <cache>/models--ORG--NAME/snapshots/<commit>/<path>  relative symlinks into blobs/
//   <cache>/.locks/models--ORG--NAME/<etag>.lock       held while a blob is written
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "base/status.h"

namespace lantern::hub {

// "name" or "org/name" of [A-Za-z0-9._-], without "..".
bool LooksLikeRepoId(const std::string& text);
bool IsCommitHash(const std::string& text);
// A path inside a repo as the Hub lists it ("config.json", "sub/x.json"): relative, no
// "..", no empty or "." segments. Anything else would write outside the snapshot.
bool IsSafeRepoPath(const std::string& path);

class RepoCache {
 public:
  RepoCache(std::filesystem::path cache_dir, const std::string& repo_id);

  const std::filesystem::path& cache_dir() const { return cache_dir_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path Blob(const std::string& etag) const { return dir_ / "blobs" / etag; }
  std::filesystem::path Snapshot(const std::string& commit) const {
    return dir_ / "snapshots" / commit;
  }
  std::filesystem::path Lock(const std::string& etag) const;

  // The commit `revision` names: refs/<revision>, or the revision itself when it is a commit
  // hash. NotFound when neither.
  Result<std::string> ReadRef(const std::string& revision) const;
  // Writes refs/<revision> (atomically: a crash leaves the old ref or the new one).
  Status WriteRef(const std::string& revision, const std::string& commit) const;
  // snapshots/<commit>/<path> -> ../../blobs/<etag> (relative, so the cache can move).
  Status Link(const std::string& commit, const std::string& path, const std::string& etag) const;

 private:
  std::filesystem::path cache_dir_;
  std::string folder_;  // models--ORG--NAME
  std::filesystem::path dir_;
};

// The snapshot directory of `repo_id` at `revision` in the first of `cache_dirs` that has
// it. The error lists every place looked at.
Result<std::filesystem::path> FindSnapshot(const std::string& repo_id, const std::string& revision,
                                           const std::vector<std::filesystem::path>& cache_dirs);

}  // namespace lantern::hub
