#include "cli/hub_model.h"

#include <unistd.h>

#include <system_error>

#include "base/log.h"
#include "hub/cache_layout.h"

namespace lantern::cli {

bool IsHubModel(const std::string& model) {
  std::error_code ec;
  return !std::filesystem::exists(model, ec) && hub::LooksLikeRepoId(model);
}

Result<hub::DownloadResult> FetchHubModel(const std::string& model, const std::string& revision,
                                          const std::string& download_dir, telemetry::Span& span) {
  hub::HubEnv env = hub::HubEnvFromEnvironment();
  hub::DownloadOptions options;
  options.revision = revision.empty() ? "main" : revision;
  options.download_dir = download_dir;
  options.progress_bars = isatty(STDERR_FILENO) != 0;
  options.user_agent = std::string("lantern/") + LANTERN_VERSION;
  // Never the token, nor the URLs the Hub redirects to (they are signed).
  span.SetAttribute("lantern.download.repo_id", model);
  span.SetAttribute("lantern.download.revision", options.revision);
  span.SetAttribute("lantern.download.endpoint", env.endpoint);
  auto result = hub::DownloadModel(model, options, env);
  if (!result.ok()) return result;
  span.SetAttribute("lantern.download.commit", result->commit);
  span.SetAttribute("lantern.download.files", static_cast<int64_t>(result->files));
  span.SetAttribute("lantern.download.fetched_files", static_cast<int64_t>(result->fetched_files));
  span.SetAttribute("lantern.download.bytes", result->fetched_bytes);
  span.SetAttribute("lantern.download.cache_hit", result->cache_hit);
  span.SetAttribute("lantern.download.offline", result->offline);
  if (result->fetched_files > 0) {
    LANTERN_LOG(kInfo, "hub") << "fetched " << result->fetched_files << " files ("
                              << result->fetched_bytes << " bytes) of " << model << " into "
                              << result->snapshot.string();
  }
  return result;
}

}  // namespace lantern::cli
