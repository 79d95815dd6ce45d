// The Hub's API answers and errors (hub/hub_api.h): parsing the revision lookup, and one
// message per failure that says what to do and never contains the token.
#include "hub/hub_api.h"

#include <gtest/gtest.h>

namespace lantern::hub {
namespace {

const std::string kToken = "hf_secret_token_value";

// As https://huggingface.co/api/models/ORG/NAME/revision/main?blobs=true answers.
const char* kInfo = R"({
  "_id": "6731", "id": "org/tiny", "modelId": "org/tiny", "private": false, "gated": false,
  "sha": "0123456789abcdef0123456789abcdef01234567",
  "siblings": [
    {"rfilename": ".gitattributes", "blobId": "a6344aac8c09253b3b630fb776ae94478aa0275b", "size": 1519},
    {"rfilename": "config.json", "blobId": "b8a5c0ad0f2e5b8e6c9b0b1a7d6c0d7c8e1f2a3b", "size": 704},
    {"rfilename": "model.safetensors", "blobId": "5d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e", "size": 269060552,
     "lfs": {"sha256": "5af571cbf074e6d21a03528d2330792e532ca608f24ac70a143f6b369968ab8c",
             "size": 269060552, "pointerSize": 135}},
    {"rfilename": 42}
  ],
  "spaces": []
})";

HubEnv Env(std::string token = "") {
  HubEnv env;
  env.endpoint = "https://hub.example";
  env.cache_dir = "/cache/hub";
  env.token = std::move(token);
  if (!env.token.empty()) env.token_source = "HF_TOKEN";
  return env;
}

HttpResponse Answer(long status, const std::string& code, const std::string& message) {
  HttpResponse response;
  response.status = status;
  if (!code.empty()) response.headers["x-error-code"] = code;
  if (!message.empty()) response.headers["x-error-message"] = message;
  return response;
}

TEST(HubApiTest, ParsesTheRevisionLookup) {
  auto info = ParseRepoInfo(kInfo);
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->commit, "0123456789abcdef0123456789abcdef01234567");
  ASSERT_EQ(info->files.size(), 3u);
  EXPECT_EQ(info->files[1].path, "config.json");
  EXPECT_FALSE(info->files[1].lfs());
  EXPECT_EQ(info->files[1].etag(), "b8a5c0ad0f2e5b8e6c9b0b1a7d6c0d7c8e1f2a3b");
  EXPECT_TRUE(info->files[2].lfs());
  EXPECT_EQ(info->files[2].size, 269060552);
  EXPECT_EQ(info->files[2].etag(),
            "5af571cbf074e6d21a03528d2330792e532ca608f24ac70a143f6b369968ab8c");
  EXPECT_FALSE(ParseRepoInfo("<html>").ok());
  EXPECT_FALSE(ParseRepoInfo(R"({"sha": "main", "siblings": []})").ok());
}

TEST(HubApiTest, Urls) {
  HubEnv env = Env();
  HubTarget target{&env, "org/tiny", "refs/pr/1"};
  EXPECT_EQ(UrlEncode("refs/pr/1", false), "refs%2Fpr%2F1");
  EXPECT_EQ(ResolveUrl(target, "abc", "sub dir/x.json"),
            "https://hub.example/org/tiny/resolve/abc/sub%20dir/x.json");
}

TEST(HubApiTest, EachErrorSaysWhatToDo) {
  HubEnv anonymous = Env();
  HubEnv with_token = Env(kToken);
  HubTarget anon{&anonymous, "org/tiny", "main"};
  HubTarget auth{&with_token, "org/tiny", "main"};
  struct Case {
    HubTarget* target;
    HttpResponse response;
    std::vector<std::string> says;
  };
  std::vector<Case> cases = {
      {&anon,
       Answer(401, "GatedRepo", "Access restricted"),
       {"gated", "accept its conditions at https://hub.example/org/tiny", "set HF_TOKEN"}},
      {&auth,
       Answer(403, "GatedRepo", "not in the authorized list " + kToken),
       {"gated", "the token from HF_TOKEN has no access"}},
      {&anon, Answer(404, "RevisionNotFound", "Invalid rev id"), {"revision 'main'", "--revision"}},
      {&anon,
       Answer(401, "RepoNotFound", "Repository not found"),
       {"not found on https://hub.example (HTTP 401)", "set HF_TOKEN"}},
      {&auth,
       Answer(401, "", "Invalid credentials in Authorization header"),
       {"refused", "invalid credentials"}},
      {&auth, Answer(403, "", "Forbidden " + kToken), {"refused", "***"}},
      {&anon, Answer(503, "", ""), {"HTTP 503", "try again later", "HF_HUB_OFFLINE=1"}},
      {&anon, Answer(404, "EntryNotFound", ""), {"the file x of org/tiny is not on"}},
  };
  for (const auto& c : cases) {
    Status status = HubError(c.response, *c.target, "the file x");
    EXPECT_FALSE(status.ok());
    for (const auto& part : c.says) {
      EXPECT_NE(status.message().find(part), std::string::npos)
          << "'" << part << "' not in: " << status.message();
    }
    EXPECT_EQ(status.message().find(kToken), std::string::npos) << status.message();
  }
}

TEST(HubApiTest, UnreachableNamesEndpointOfflineAndCache) {
  HubEnv env = Env(kToken);
  HubTarget target{&env, "org/tiny", "main"};
  Status status = UnreachableError(target, "Could not connect " + kToken);
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  for (const char* part : {"https://hub.example", "HF_HUB_OFFLINE=1", "/cache/hub"}) {
    EXPECT_NE(status.message().find(part), std::string::npos) << status.message();
  }
  EXPECT_EQ(status.message().find(kToken), std::string::npos);
  EXPECT_EQ(Redact("a " + kToken + " b " + kToken, kToken), "a *** b ***");
}

TEST(HubApiTest, OriginsCompareSchemeHostAndPort) {
  EXPECT_EQ(OriginOf("https://huggingface.co/org/x/resolve/main/a"), "https://huggingface.co:443");
  EXPECT_EQ(OriginOf("HTTP://Example.com:8080/x"), "http://example.com:8080");
  EXPECT_NE(OriginOf("http://127.0.0.1:1000/x"), OriginOf("http://127.0.0.1:1001/x"));
  EXPECT_EQ(OriginOf("not a url"), "");
}

}  // namespace
}  // namespace lantern::hub
