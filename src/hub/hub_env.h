// Where the Hugging Face Hub is and how to talk to it, read from the environment the way
// huggingface_hub reads it, so that Python tools and lantern share one cache and one login:
//   HF_ENDPOINT              the Hub (default https://huggingface.co)
//   HF_HUB_CACHE             the cache (else HUGGINGFACE_HUB_CACHE, HF_HOME/hub,
//                            XDG_CACHE_HOME/huggingface/hub, ~/.cache/huggingface/hub)
//   HF_TOKEN                 the token (else HUGGING_FACE_HUB_TOKEN, the file HF_TOKEN_PATH,
//                            HF_HOME/token)
//   HF_HUB_OFFLINE           1/true/yes/on: no network, the cache only (TRANSFORMERS_OFFLINE too)
//   HF_HUB_ETAG_TIMEOUT      seconds for an API answer (default 10)
//   HF_HUB_DOWNLOAD_TIMEOUT  seconds a download may stall before it is resumed (default 10)
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace lantern::hub {

struct HubEnv {
  std::string endpoint = "https://huggingface.co";  // no trailing '/'
  std::filesystem::path cache_dir;                  // where downloads go
  std::string token;                                // empty: anonymous; never logged
  std::string token_source;                         // "HF_TOKEN", "/root/.cache/.../token"
  bool offline = false;
  double etag_timeout_s = 10;
  double download_timeout_s = 10;
};

// The environment as huggingface_hub reads it; `get` returns a variable or nullptr
// (std::getenv by default; tests pass their own).
using GetEnv = const char* (*)(const char*);
HubEnv HubEnvFromEnvironment(GetEnv get = nullptr);

// Every cache directory a repo id is looked up in when offline, in order: HF_HUB_CACHE,
// HF_HOME/hub, XDG_CACHE_HOME/huggingface/hub, ~/.cache/huggingface/hub (each when its
// variable is set).
std::vector<std::filesystem::path> CacheSearchPath(GetEnv get = nullptr);

}  // namespace lantern::hub
