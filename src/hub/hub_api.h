// The Hub's HTTP API as huggingface_hub speaks it:
//   GET {endpoint}/api/models/{repo}/revision/{revision}?blobs=true  -> the commit and the
//       file list with sizes, git blob ids and, for LFS files, their sha256
//   GET {endpoint}/{repo}/resolve/{commit}/{path}  -> the file, or a redirect to it
// and its errors (X-Error-Code: RepoNotFound, RevisionNotFound, GatedRepo, EntryNotFound),
// turned into messages that say what to do. No message ever contains the token.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "hub/http_client.h"
#include "hub/hub_env.h"

namespace lantern::hub {

struct RepoFile {
  std::string path;     // "config.json", relative to the repo root
  int64_t size = -1;    // -1: not listed
  std::string blob_id;  // git sha1 of the file (of its LFS pointer for LFS files)
  std::string sha256;   // LFS files only
  bool lfs() const { return !sha256.empty(); }
  // The blob's name in the cache: the Hub's ETag (X-Linked-Etag for LFS files).
  const std::string& etag() const { return lfs() ? sha256 : blob_id; }
};

struct RepoInfo {
  std::string commit;
  std::vector<RepoFile> files;
};

struct HubTarget {
  const HubEnv* env = nullptr;
  std::string repo_id;
  std::string revision;
  std::string user_agent = "lantern";
};

// Percent-encodes `text` for a URL path; '/' stays when `keep_slash`.
std::string UrlEncode(const std::string& text, bool keep_slash);
std::string ResolveUrl(const HubTarget& target, const std::string& commit, const std::string& path);
// The revision lookup. Errors: kUnavailable (Hub unreachable) or a Hub error from HubError.
Result<RepoInfo> FetchRepoInfo(HttpClient& http, const HubTarget& target);
// Parses the API answer (exposed for tests).
Result<RepoInfo> ParseRepoInfo(const std::string& json);
// An HTTP error answer of the Hub as a Status whose message says what to do. `what` names
// the thing asked for ("the file config.json").
Status HubError(const HttpResponse& response, const HubTarget& target, const std::string& what);
// "cannot reach ..." with the cause, what to check, HF_HUB_OFFLINE and the cache's place.
Status UnreachableError(const HubTarget& target, const std::string& cause);
// `text` with every occurrence of the token replaced by "***" (defence in depth: server
// messages are echoed).
std::string Redact(std::string text, const std::string& token);

}  // namespace lantern::hub
