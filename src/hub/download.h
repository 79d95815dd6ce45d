// The hub module's entry point: a repo id in, a local snapshot directory out, as
// huggingface_hub's snapshot_download gives it, fetching only the files serving needs.
//
// Online, one revision lookup says which commit `revision` is and what it holds; files
// already in the cache are not fetched again, so a warm start costs that one request.
// With HF_HUB_OFFLINE the cache alone answers (no network at all); when the Hub cannot be
// reached, a snapshot already in the cache is used (with a warning), as huggingface_hub does.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "base/status.h"
#include "hub/hub_env.h"

namespace lantern::hub {

struct DownloadOptions {
  std::string revision = "main";       // branch, tag or commit
  std::filesystem::path download_dir;  // the cache to use instead of HF_HUB_CACHE's
  bool progress_bars = false;          // live bars (a terminal) or one line per file
  int max_workers = 8;                 // files fetched in parallel
  std::string user_agent = "lantern";
};

struct DownloadResult {
  std::filesystem::path snapshot;  // snapshots/<commit>
  std::string commit;
  std::filesystem::path cache_dir;
  int files = 0;          // files of the snapshot that serving needs
  int fetched_files = 0;  // of those, fetched over the network now
  int64_t fetched_bytes = 0;
  bool cache_hit = false;  // nothing was fetched
  bool offline = false;    // the Hub was not asked (HF_HUB_OFFLINE) or could not be reached
};

Result<DownloadResult> DownloadModel(const std::string& repo_id, const DownloadOptions& options,
                                     const HubEnv& env);

}  // namespace lantern::hub
