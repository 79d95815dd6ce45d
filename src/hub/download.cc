#include "hub/download.h"

#include <pthread.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "base/log.h"
#include "hub/file_fetch.h"
#include "hub/file_selection.h"

namespace lantern::hub {
namespace fs = std::filesystem;

namespace {

// The cache lookup without the Hub: `download_dir` alone, else every standard place.
Result<DownloadResult> FromCache(const std::string& repo_id, const DownloadOptions& options,
                                 const HubEnv& env) {
  std::vector<fs::path> dirs;
  if (!options.download_dir.empty()) {
    dirs.push_back(options.download_dir);
  } else {
    dirs.push_back(env.cache_dir);
    for (auto& dir : CacheSearchPath()) {
      if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(dir);
    }
  }
  auto snapshot = FindSnapshot(repo_id, options.revision, dirs);
  if (!snapshot.ok()) return snapshot.status();
  DownloadResult result;
  result.snapshot = *snapshot;
  result.commit = snapshot->filename().string();
  result.cache_dir = snapshot->parent_path().parent_path().parent_path();
  result.cache_hit = true;
  result.offline = true;
  return result;
}

Status CheckFreeSpace(const fs::path& dir, int64_t needed) {
  struct statvfs info {};
  if (needed <= 0 || statvfs(dir.c_str(), &info) != 0) return Status::Ok();
  int64_t free_bytes = static_cast<int64_t>(info.f_bavail) * static_cast<int64_t>(info.f_frsize);
  if (free_bytes >= needed) return Status::Ok();
  return ResourceExhausted("not enough disk space for the download: " + Progress::Bytes(needed) +
                           " needed, " + Progress::Bytes(free_bytes) + " free in " + dir.string() +
                           ". Free some space, or put the cache on another disk with "
                           "HF_HUB_CACHE or --download-dir");
}

// Fetches `files` with up to `workers` threads; the first error stops the others.
Status FetchAll(const std::vector<const RepoFile*>& files, int workers, FetchContext base,
                int64_t* fetched_bytes, int* fetched_files) {
  std::atomic<size_t> next{0};
  std::atomic<bool> cancel{false};
  std::mutex mu;
  Status first_error;
  auto work = [&](int index) {
    std::string name = "hub-fetch-" + std::to_string(index);
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    HttpClient http;
    FetchContext context = base;
    context.http = &http;
    context.cancel = &cancel;
    for (size_t i = next++; i < files.size() && !cancel; i = next++) {
      auto fetched = FetchFile(context, *files[i]);
      std::lock_guard<std::mutex> lock(mu);
      if (!fetched.ok()) {
        if (first_error.ok()) first_error = fetched.status();
        cancel = true;
      } else if (*fetched > 0) {
        *fetched_bytes += *fetched;
        ++*fetched_files;
      }
    }
  };
  std::vector<std::thread> threads;
  int n = std::clamp(static_cast<int>(files.size()), 1, std::max(workers, 1));
  for (int i = 0; i < n; ++i) threads.emplace_back(work, i);
  for (auto& t : threads) t.join();
  return first_error;
}

const RepoFile* Find(const RepoInfo& info, const std::string& path) {
  for (const auto& f : info.files) {
    if (f.path == path) return &f;
  }
  return nullptr;
}

}  // namespace

Result<DownloadResult> DownloadModel(const std::string& repo_id, const DownloadOptions& options,
                                     const HubEnv& env) {
  if (!LooksLikeRepoId(repo_id)) {
    return InvalidArgument("'" + repo_id + "' is not a Hugging Face repo id (ORG/NAME)");
  }
  if (env.offline) {
    auto cached = FromCache(repo_id, options, env);
    if (cached.ok()) return cached;
    return NotFound("HF_HUB_OFFLINE is set and " + cached.status().message() +
                    "\nUnset HF_HUB_OFFLINE to download it, or fetch it first with `lantern "
                    "download " +
                    repo_id + "` where the Hub can be reached");
  }
  HubEnv hub = env;
  if (!options.download_dir.empty()) hub.cache_dir = options.download_dir;
  HubTarget target{&hub, repo_id, options.revision.empty() ? "main" : options.revision,
                   options.user_agent};
  RepoCache cache(hub.cache_dir, repo_id);
  HttpClient http;
  auto info = FetchRepoInfo(http, target);
  if (!info.ok()) {
    if (info.status().code() != StatusCode::kUnavailable) return info.status();
    auto cached = FromCache(repo_id, options, hub);
    if (!cached.ok()) return info.status();
    LANTERN_LOG(kWarning, "hub") << info.status().message() << "; using the cached snapshot "
                                 << cached->snapshot.string();
    return cached;
  }
  LANTERN_ASSIGN_OR_RETURN(FileSelection selection, SelectFiles(info->files));
  for (const auto& f : info->files) {
    if (!IsSafeRepoPath(f.path))
      return DataLoss("the Hub listed an unsafe file name '" + f.path + "'");
  }

  DownloadResult result;
  result.commit = info->commit;
  result.cache_dir = hub.cache_dir;
  result.snapshot = cache.Snapshot(info->commit);
  Progress progress(options.progress_bars);
  FetchContext context;
  context.target = &target;
  context.cache = &cache;
  context.commit = info->commit;
  context.progress = &progress;
  bool announced = false;
  // Two rounds: the configs and the weight index first, then the weights it names.
  for (int round = 0; round < 2; ++round) {
    std::vector<std::string> names = selection.metadata;
    if (round == 1) {
      names = selection.weights;
      if (!selection.weight_index.empty()) {
        std::ifstream in(result.snapshot / selection.weight_index);
        std::stringstream text;
        text << in.rdbuf();
        LANTERN_ASSIGN_OR_RETURN(names, WeightsFromIndex(text.str(), info->files));
      }
    }
    std::vector<const RepoFile*> missing;
    int64_t bytes = 0;
    for (const auto& name : names) {
      const RepoFile* file = Find(*info, name);
      if (!file) return NotFound(name + " is not in " + repo_id);
      ++result.files;
      if (InSnapshot(cache, info->commit, *file)) continue;
      missing.push_back(file);
      bytes += std::max<int64_t>(file->size, 0);
    }
    if (missing.empty()) continue;
    if (!announced) {
      announced = true;
      LANTERN_LOG(kInfo, "hub") << "fetching " << repo_id << " (revision " << target.revision
                                << ", commit " << info->commit << ") from " << hub.endpoint
                                << " into " << hub.cache_dir.string();
    }
    std::error_code ec;
    fs::create_directories(cache.dir(), ec);
    LANTERN_RETURN_IF_ERROR(CheckFreeSpace(cache.dir(), bytes));
    // Largest first, so that the long transfers start at once and overlap the small ones.
    std::sort(missing.begin(), missing.end(),
              [](const RepoFile* a, const RepoFile* b) { return a->size > b->size; });
    progress.Expect(static_cast<int>(missing.size()), bytes);
    Status fetched = FetchAll(missing, options.max_workers, context, &result.fetched_bytes,
                              &result.fetched_files);
    progress.Finish();
    if (!fetched.ok()) return fetched;
  }
  LANTERN_RETURN_IF_ERROR(cache.WriteRef(target.revision, info->commit));
  result.cache_hit = result.fetched_files == 0;
  if (result.cache_hit) {
    LANTERN_LOG(kInfo, "hub") << repo_id << " (commit " << info->commit
                              << ") is in the cache: nothing to download";
  }
  return result;
}

}  // namespace lantern::hub
