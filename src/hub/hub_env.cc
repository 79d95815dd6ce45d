#include "hub/hub_env.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace lantern::hub {
namespace fs = std::filesystem;

namespace {

std::string Var(GetEnv get, const char* name) {
  const char* value = get ? get(name) : std::getenv(name);
  return value ? value : "";
}

std::string Trim(std::string s) {
  auto space = [](unsigned char c) { return std::isspace(c) != 0; };
  s.erase(s.begin(), std::find_if_not(s.begin(), s.end(), space));
  while (!s.empty() && space(static_cast<unsigned char>(s.back()))) s.pop_back();
  return s;
}

// huggingface_hub's truthy values.
bool IsTrue(std::string value) {
  for (char& c : value) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return value == "1" || value == "ON" || value == "YES" || value == "TRUE";
}

double Seconds(GetEnv get, const char* name, double fallback) {
  std::string text = Var(get, name);
  if (text.empty()) return fallback;
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  return (end && *end == '\0' && value > 0) ? value : fallback;
}

// ~/.cache unless XDG_CACHE_HOME says otherwise; HF_HOME overrides both.
fs::path HfHome(GetEnv get) {
  if (auto home = Var(get, "HF_HOME"); !home.empty()) return home;
  if (auto xdg = Var(get, "XDG_CACHE_HOME"); !xdg.empty()) return fs::path(xdg) / "huggingface";
  return fs::path(Var(get, "HOME")) / ".cache" / "huggingface";
}

}  // namespace

HubEnv HubEnvFromEnvironment(GetEnv get) {
  HubEnv env;
  if (auto endpoint = Var(get, "HF_ENDPOINT"); !endpoint.empty()) {
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    env.endpoint = endpoint;
  }
  if (auto cache = Var(get, "HF_HUB_CACHE"); !cache.empty()) {
    env.cache_dir = cache;
  } else if (auto legacy = Var(get, "HUGGINGFACE_HUB_CACHE"); !legacy.empty()) {
    env.cache_dir = legacy;
  } else {
    env.cache_dir = HfHome(get) / "hub";
  }
  for (const char* name : {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"}) {
    if (auto token = Trim(Var(get, name)); !token.empty()) {
      env.token = token;
      env.token_source = name;
      break;
    }
  }
  if (env.token.empty()) {
    fs::path file = Var(get, "HF_TOKEN_PATH");
    if (file.empty()) file = HfHome(get) / "token";
    if (std::ifstream in(file); in) {
      std::stringstream text;
      text << in.rdbuf();
      env.token = Trim(text.str());
      if (!env.token.empty()) env.token_source = file.string();
    }
  }
  env.offline = IsTrue(Var(get, "HF_HUB_OFFLINE")) || IsTrue(Var(get, "TRANSFORMERS_OFFLINE"));
  env.etag_timeout_s = Seconds(get, "HF_HUB_ETAG_TIMEOUT", env.etag_timeout_s);
  env.download_timeout_s = Seconds(get, "HF_HUB_DOWNLOAD_TIMEOUT", env.download_timeout_s);
  return env;
}

std::vector<fs::path> CacheSearchPath(GetEnv get) {
  std::vector<fs::path> dirs;
  if (auto v = Var(get, "HF_HUB_CACHE"); !v.empty()) dirs.emplace_back(v);
  if (auto v = Var(get, "HF_HOME"); !v.empty()) dirs.push_back(fs::path(v) / "hub");
  if (auto v = Var(get, "XDG_CACHE_HOME"); !v.empty()) {
    dirs.push_back(fs::path(v) / "huggingface/hub");
  }
  if (auto v = Var(get, "HOME"); !v.empty()) dirs.push_back(fs::path(v) / ".cache/huggingface/hub");
  return dirs;
}

}  // namespace lantern::hub
