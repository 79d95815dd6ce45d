// The HF_* environment read as huggingface_hub reads it (hub/hub_env.h).
#include "hub/hub_env.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <string>

namespace lantern::hub {
namespace {

namespace fs = std::filesystem;

// GetEnv is a plain function pointer, so the fake environment is a global.
std::map<std::string, std::string> g_env;
const char* FakeGetEnv(const char* name) {
  auto it = g_env.find(name);
  return it == g_env.end() ? nullptr : it->second.c_str();
}

class HubEnvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("lantern-hub-env-" + std::to_string(getpid()));
    fs::create_directories(dir_);
    g_env = {{"HOME", (dir_ / "home").string()}};
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(HubEnvTest, DefaultsAreHuggingFaceHubs) {
  HubEnv env = HubEnvFromEnvironment(FakeGetEnv);
  EXPECT_EQ(env.endpoint, "https://huggingface.co");
  EXPECT_EQ(env.cache_dir, dir_ / "home/.cache/huggingface/hub");
  EXPECT_EQ(env.token, "");
  EXPECT_FALSE(env.offline);
  EXPECT_EQ(env.download_timeout_s, 10);
}

TEST_F(HubEnvTest, CacheDirectoryPrecedence) {
  g_env["XDG_CACHE_HOME"] = "/xdg";
  EXPECT_EQ(HubEnvFromEnvironment(FakeGetEnv).cache_dir, fs::path("/xdg/huggingface/hub"));
  g_env["HF_HOME"] = "/hf-home";
  EXPECT_EQ(HubEnvFromEnvironment(FakeGetEnv).cache_dir, fs::path("/hf-home/hub"));
  g_env["HUGGINGFACE_HUB_CACHE"] = "/legacy";
  EXPECT_EQ(HubEnvFromEnvironment(FakeGetEnv).cache_dir, fs::path("/legacy"));
  g_env["HF_HUB_CACHE"] = "/cache";
  EXPECT_EQ(HubEnvFromEnvironment(FakeGetEnv).cache_dir, fs::path("/cache"));
  auto search = CacheSearchPath(FakeGetEnv);
  ASSERT_EQ(search.size(), 4u);
  EXPECT_EQ(search[0], fs::path("/cache"));
  EXPECT_EQ(search[1], fs::path("/hf-home/hub"));
  EXPECT_EQ(search[2], fs::path("/xdg/huggingface/hub"));
}

TEST_F(HubEnvTest, EndpointLosesItsTrailingSlash) {
  g_env["HF_ENDPOINT"] = "https://hf-mirror.example.com/";
  EXPECT_EQ(HubEnvFromEnvironment(FakeGetEnv).endpoint, "https://hf-mirror.example.com");
}

TEST_F(HubEnvTest, TokenFromVariableThenFiles) {
  g_env["HF_HOME"] = (dir_ / "hf").string();
  fs::create_directories(dir_ / "hf");
  std::ofstream(dir_ / "hf/token") << "  hf_from_file\n";
  HubEnv env = HubEnvFromEnvironment(FakeGetEnv);
  EXPECT_EQ(env.token, "hf_from_file");
  EXPECT_EQ(env.token_source, (dir_ / "hf/token").string());
  std::ofstream(dir_ / "other") << "hf_from_token_path";
  g_env["HF_TOKEN_PATH"] = (dir_ / "other").string();
  EXPECT_EQ(HubEnvFromEnvironment(FakeGetEnv).token, "hf_from_token_path");
  g_env["HUGGING_FACE_HUB_TOKEN"] = "hf_legacy";
  EXPECT_EQ(HubEnvFromEnvironment(FakeGetEnv).token, "hf_legacy");
  g_env["HF_TOKEN"] = "hf_variable\n";
  env = HubEnvFromEnvironment(FakeGetEnv);
  EXPECT_EQ(env.token, "hf_variable");
  EXPECT_EQ(env.token_source, "HF_TOKEN");
}

TEST_F(HubEnvTest, OfflineAndTimeouts) {
  for (const char* value : {"1", "true", "ON", "yes"}) {
    g_env["HF_HUB_OFFLINE"] = value;
    EXPECT_TRUE(HubEnvFromEnvironment(FakeGetEnv).offline) << value;
  }
  g_env["HF_HUB_OFFLINE"] = "0";
  EXPECT_FALSE(HubEnvFromEnvironment(FakeGetEnv).offline);
  g_env["TRANSFORMERS_OFFLINE"] = "1";
  EXPECT_TRUE(HubEnvFromEnvironment(FakeGetEnv).offline);
  g_env["HF_HUB_DOWNLOAD_TIMEOUT"] = "2.5";
  g_env["HF_HUB_ETAG_TIMEOUT"] = "not a number";
  HubEnv env = HubEnvFromEnvironment(FakeGetEnv);
  EXPECT_EQ(env.download_timeout_s, 2.5);
  EXPECT_EQ(env.etag_timeout_s, 10);
}

}  // namespace
}  // namespace lantern::hub
