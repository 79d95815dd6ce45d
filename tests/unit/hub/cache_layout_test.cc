// The cache layout huggingface_hub writes and reads (hub/cache_layout.h), the lock that
// keeps two writers apart, and SHA-256.
#include "hub/cache_layout.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "hub/file_lock.h"
#include "hub/sha256.h"

namespace lantern::hub {
namespace {

namespace fs = std::filesystem;

class CacheLayoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("lantern-hub-cache-" + std::to_string(getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";

TEST(CacheNamesTest, RepoIdsCommitsAndPaths) {
  EXPECT_TRUE(LooksLikeRepoId("facebook/opt-125m"));
  EXPECT_TRUE(LooksLikeRepoId("gpt2"));
  EXPECT_TRUE(LooksLikeRepoId("HuggingFaceTB/SmolLM2-135M-Instruct"));
  for (const char* bad : {"", "/abs/path", "./dir", "a/b/c", "org/..", "org/", "a b/c", "..x/y"}) {
    EXPECT_FALSE(LooksLikeRepoId(bad)) << bad;
  }
  EXPECT_TRUE(IsCommitHash(kCommit));
  EXPECT_FALSE(IsCommitHash("main"));
  EXPECT_TRUE(IsSafeRepoPath("config.json"));
  EXPECT_TRUE(IsSafeRepoPath("sub/dir/file.bin"));
  for (const char* bad : {"", "/etc/passwd", "../x", "a/../b", "a//b", "./a", "a/", "a\\b"}) {
    EXPECT_FALSE(IsSafeRepoPath(bad)) << bad;
  }
}

TEST_F(CacheLayoutTest, RefsLinksAndLookup) {
  RepoCache repo(root_, "org/tiny");
  EXPECT_EQ(repo.dir(), root_ / "models--org--tiny");
  EXPECT_EQ(repo.Lock("abc"), root_ / ".locks/models--org--tiny/abc.lock");
  EXPECT_FALSE(repo.ReadRef("main").ok());
  ASSERT_TRUE(repo.WriteRef("main", kCommit).ok());
  ASSERT_TRUE(repo.WriteRef("refs/pr/1", kCommit).ok());
  EXPECT_EQ(*repo.ReadRef("main"), kCommit);
  EXPECT_EQ(*repo.ReadRef("refs/pr/1"), kCommit);
  EXPECT_EQ(*repo.ReadRef(kCommit), kCommit);  // a commit needs no ref
  std::ifstream ref(repo.dir() / "refs/main");
  std::string text((std::istreambuf_iterator<char>(ref)), {});
  EXPECT_EQ(text, kCommit);  // no newline, as huggingface_hub writes it

  fs::create_directories(repo.dir() / "blobs");
  std::ofstream(repo.Blob("blob1")) << "{}";
  ASSERT_TRUE(repo.Link(kCommit, "config.json", "blob1").ok());
  ASSERT_TRUE(repo.Link(kCommit, "sub/x.json", "blob1").ok());
  ASSERT_TRUE(repo.Link(kCommit, "config.json", "blob1").ok());  // again: replaced
  EXPECT_EQ(fs::read_symlink(repo.Snapshot(kCommit) / "config.json"), "../../blobs/blob1");
  EXPECT_EQ(fs::read_symlink(repo.Snapshot(kCommit) / "sub/x.json"), "../../../blobs/blob1");
  EXPECT_EQ(fs::file_size(repo.Snapshot(kCommit) / "sub/x.json"), 2u);

  auto found = FindSnapshot("org/tiny", "main", {root_ / "missing", root_});
  ASSERT_TRUE(found.ok()) << found.status().message();
  EXPECT_EQ(*found, repo.Snapshot(kCommit));
  auto missing = FindSnapshot("org/tiny", "v2", {root_ / "missing", root_});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find((root_ / "missing").string()), std::string::npos);
  EXPECT_NE(missing.status().message().find("refs/v2"), std::string::npos);
}

TEST_F(CacheLayoutTest, ARefCannotPointOutsideTheCache) {
  RepoCache repo(root_, "org/tiny");
  fs::create_directories(repo.dir() / "refs");
  std::ofstream(repo.dir() / "refs/main") << "../../../etc\n";
  EXPECT_FALSE(repo.ReadRef("main").ok());
  EXPECT_FALSE(repo.WriteRef("../escape", kCommit).ok());
}

TEST_F(CacheLayoutTest, TheLockKeepsASecondHolderWaiting) {
  fs::path path = root_ / ".locks/x.lock";
  auto first = FileLock::Acquire(path);
  ASSERT_TRUE(first.ok());
  std::atomic<bool> second_held{false};
  static std::atomic<bool> waited{false};
  std::thread other([&] {
    auto second = FileLock::Acquire(path, [](const fs::path&) { waited = true; });
    second_held = second.ok();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(second_held);
  { auto release = std::move(first).value(); }
  other.join();
  EXPECT_TRUE(second_held);
  EXPECT_TRUE(waited);
}

TEST(Sha256Test, KnownDigestsPieceByPiece) {
  Sha256 hash;
  EXPECT_EQ(hash.HexDigest(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  hash.Update("a");
  hash.Update("bc");
  EXPECT_EQ(hash.HexDigest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace lantern::hub
