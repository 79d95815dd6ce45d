#include "server/model_source.h"

#include <system_error>

#include "hub/cache_layout.h"
#include "hub/hub_env.h"

namespace lantern::server {
namespace fs = std::filesystem;

std::vector<fs::path> HuggingFaceCacheDirs() { return hub::CacheSearchPath(); }

Result<fs::path> ResolveModelPath(const std::string& model, const std::string& revision,
                                  const std::vector<fs::path>& cache_dirs) {
  std::error_code ec;
  if (fs::is_directory(model, ec)) return fs::path(model);
  if (!hub::LooksLikeRepoId(model)) {
    return NotFound("model '" + model + "' not found: it is neither a directory nor a Hugging " +
                    "Face repo id (org/name). Looked at:\n  " + model + " (not a directory)");
  }
  return hub::FindSnapshot(model, revision, cache_dirs);
}

}  // namespace lantern::server
