// LoadOptions::progress: called as tensors are read, never backwards, ending at the bytes the
// model read out of the checkpoint's total.
#include <gtest/gtest.h>

#include <vector>

#include "family_test_util.h"
#include "model/model.h"
#include "model/weights.h"

namespace lantern::model {
namespace {

TEST(LoadProgressTest, ReportsEveryTensorUpToTheCheckpointTotal) {
  testing::TempDir dir;
  ASSERT_TRUE(testing::RunFixture("make_llama_model.py",
                                  {"--out", (dir.path() / "model").string(), "--seed", "1"}));
  auto store = WeightStore::Open(dir.path() / "model");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  auto model = LoadModel(dir.path() / "model",
                         {.num_threads = 1, .progress = [&](uint64_t done, uint64_t total) {
                            calls.emplace_back(done, total);
                          }});
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  ASSERT_GE(calls.size(), store->size() - 1);  // a tied LM head is not read twice
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_EQ(calls[i].second, store->total_bytes());
    if (i > 0) {
      EXPECT_GT(calls[i].first, calls[i - 1].first);
    }
  }
  EXPECT_EQ(calls.back().first, store->total_bytes());  // this model reads every tensor
  // Without a callback nothing is reported (and nothing breaks).
  EXPECT_TRUE(LoadModel(dir.path() / "model", {.num_threads = 1}).ok());
}

}  // namespace
}  // namespace lantern::model
