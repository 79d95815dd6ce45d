// `lantern serve ORG/NAME` and `lantern download ORG/NAME`: a repo id that is not a local
// directory is fetched from the Hugging Face Hub into the standard cache (hub/), and the
// start-up trace gets a `download` phase saying what that cost.
#pragma once

#include <filesystem>
#include <string>

#include "base/status.h"
#include "hub/download.h"
#include "telemetry/span.h"

namespace lantern::cli {

// Whether `model` names a repo to fetch: not an existing path, and shaped like ORG/NAME.
bool IsHubModel(const std::string& model);

// The snapshot directory of repo `model` at `revision` (cache: `download_dir`, or the one
// the HF_* variables name), fetched as needed with progress on stderr. `span` (the
// `download` phase; may be a no-op span) gets the repo, commit, files, bytes and whether
// the cache answered.
Result<hub::DownloadResult> FetchHubModel(const std::string& model, const std::string& revision,
                                          const std::string& download_dir, telemetry::Span& span);

}  // namespace lantern::cli
