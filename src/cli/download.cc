// `lantern download ORG/NAME`: fetches what `lantern serve ORG/NAME` needs from the Hugging
// Face Hub into the cache (as `huggingface-cli download` does) and prints the snapshot's
// path on stdout, so that scripts can use it: `lantern serve "$(lantern download X)"`.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "cli/command.h"
#include "cli/hub_model.h"
#include "hub/cache_layout.h"

LANTERN_COMMAND(download, "Download a model from the Hugging Face Hub into the local cache") {
  std::string model;
  std::string revision = "main";
  std::string download_dir;
  CLI::App app{
      "Download a model from the Hugging Face Hub into the local cache (only the files "
      "serving needs). Environment: HF_ENDPOINT, HF_HOME, HF_HUB_CACHE, HF_TOKEN, "
      "HF_HUB_OFFLINE (see docs/hub.md)",
      "lantern download"};
  app.option_defaults()->always_capture_default();
  app.add_option("model,--model", model, "Hugging Face repo id (ORG/NAME)")->required();
  app.add_option("--revision", revision, "Branch, tag or commit");
  app.add_option("--download-dir", download_dir,
                 "Cache directory to use instead of HF_HUB_CACHE's (as vLLM's --download-dir)")
      ->default_str("");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (!lantern::hub::LooksLikeRepoId(model)) {
    std::fprintf(stderr, "lantern download: error: '%s' is not a Hugging Face repo id (ORG/NAME)\n",
                 model.c_str());
    return 2;
  }
  lantern::telemetry::Span no_span;
  auto result = lantern::cli::FetchHubModel(model, revision, download_dir, no_span);
  if (!result.ok()) {
    std::fprintf(stderr, "lantern download: error: %s\n", result.status().message().c_str());
    return 1;
  }
  std::printf("%s\n", result->snapshot.c_str());
  return 0;
}
