// Bad model directories and bad batches give clear errors, never a crash.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/model.h"
#include "opt_test_util.h"

namespace lantern::model {
namespace {

using testing::MakeOptModel;
using testing::TempDir;

TEST(OptErrorsTest, MissingDirectoryNamesIt) {
  auto model = LoadModel("/nonexistent/lantern-model");
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("/nonexistent/lantern-model"), std::string::npos)
      << model.status().ToString();
}

TEST(OptErrorsTest, ShapeMismatchNamesTheTensor) {
  TempDir dir;
  ASSERT_TRUE(MakeOptModel(dir.path(), {"--ffn", "128"}));
  // config.json promises a larger FFN than the weights hold.
  std::string config = testing::ReadFile(dir.path() / "config.json");
  const std::string from = "\"ffn_dim\": 128", to = "\"ffn_dim\": 256";
  ASSERT_NE(config.find(from), std::string::npos);
  config.replace(config.find(from), from.size(), to);
  testing::WriteFile(dir.path() / "config.json", config);
  auto model = LoadModel(dir.path());
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("fc1.weight"), std::string::npos)
      << model.status().ToString();
  EXPECT_NE(model.status().message().find("[128, 64]"), std::string::npos)
      << model.status().ToString();
}

class OptBadBatchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    ASSERT_TRUE(MakeOptModel(dir_->path(), {}));
    auto loaded = LoadModel(dir_->path(), {.num_threads = 2});
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    model_ = loaded->release();
  }
  static void TearDownTestSuite() {
    delete model_;
    delete dir_;
  }
  Status Run(std::vector<int32_t> tokens, int32_t start, std::vector<int32_t> table) {
    auto kv = model_->NewKvCache(4, 16);
    std::vector<float> logits;
    SequenceChunk chunk{tokens, start, table};
    return model_->Forward({{chunk}}, *kv, &logits);
  }
  static TempDir* dir_;
  static Model* model_;
};
TempDir* OptBadBatchTest::dir_ = nullptr;
Model* OptBadBatchTest::model_ = nullptr;

TEST_F(OptBadBatchTest, RejectsWithInvalidArgument) {
  EXPECT_TRUE(Run({2, 5}, 0, {0}).ok());
  struct Case {
    std::vector<int32_t> tokens;
    int32_t start;
    std::vector<int32_t> table;
    const char* expect;
  };
  for (const Case& c : std::vector<Case>{
           {{2, 512}, 0, {0}, "token id 512"},
           {{2, -1}, 0, {0}, "token id -1"},
           {{2, 5}, 0, {4}, "block id 4"},
           {{2, 5}, 0, {-1}, "block id -1"},
           {{2, 5}, 15, {0}, "block table has 1 blocks, 2 needed"},
           {{2, 5}, 127, {0, 1, 2, 3}, "exceed max_position_embeddings 128"},
           {{}, 0, {0}, "no tokens"},
           {{2}, -3, {0}, "negative start_position"},
       }) {
    Status status = Run(c.tokens, c.start, c.table);
    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << c.expect;
    EXPECT_NE(status.message().find(c.expect), std::string::npos) << status.ToString();
  }
}

TEST_F(OptBadBatchTest, RejectsCacheOfAnotherShape) {
  KvCache kv(1, 4, 16, 4, 16);  // one layer; the tiny model has two
  std::vector<int32_t> tokens = {2}, table = {0};
  std::vector<float> logits;
  Status status = model_->Forward({{SequenceChunk{tokens, 0, table}}}, kv, &logits);
  EXPECT_EQ(status.code(), StatusCode::kFailedPrecondition) << status.ToString();
}

}  // namespace
}  // namespace lantern::model
