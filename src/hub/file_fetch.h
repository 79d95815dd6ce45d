// Fetches one file of a snapshot into the cache, robustly:
//  - under the blob's lock file, so two processes never write the same blob;
//  - into blobs/<etag>.incomplete, renamed to blobs/<etag> only when whole and checked, so a
//    crash never leaves a truncated file where a whole one is expected;
//  - resuming with a Range request: a transfer that breaks off or stalls goes on from the
//    bytes on disk (up to 5 times), and so does a later run after a crash;
//  - checking the size, and the sha256 of LFS files (a mismatch: the file is removed and
//    fetched once more, then it is an error).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "base/status.h"
#include "hub/cache_layout.h"
#include "hub/http_client.h"
#include "hub/hub_api.h"
#include "hub/progress.h"

namespace lantern::hub {

struct FetchContext {
  HttpClient* http = nullptr;
  const HubTarget* target = nullptr;
  const RepoCache* cache = nullptr;
  std::string commit;
  Progress* progress = nullptr;               // may be null
  const std::atomic<bool>* cancel = nullptr;  // set when another file failed
};

// Whether snapshots/<commit>/<path> is there and whole (the listed size).
bool InSnapshot(const RepoCache& cache, const std::string& commit, const RepoFile& file);

// Makes snapshots/<commit>/<file.path> a link to a whole blob. Returns the bytes fetched
// over the network (0 when the blob was already in the cache).
Result<int64_t> FetchFile(const FetchContext& context, const RepoFile& file);

}  // namespace lantern::hub
