// Whole checkpoints from tests/fixtures/make_opt_model.py: the safetensors file (our
// Python writer), pytorch_model.bin (the real torch.save) and sharded safetensors must all
// give exactly the bytes that torch.load reads from the .bin.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "loader_test_util.h"
#include "model/weights.h"

namespace lantern::model {
namespace {

using testing::ReadFile;
using testing::TempDir;

bool MakeCheckpoint(const std::filesystem::path& dir, std::vector<std::string> options) {
  options.insert(options.begin(), {"opt", "--out", dir.string()});
  return testing::RunFixtureScript("loader_cases.py", options);
}

// Expects `store` to hold, under `prefix` + the reference's names, the bytes torch.load
// read (entries listed in `absent` are expected to be missing).
void ExpectMatchesTorchLoad(const WeightStore& store, const std::filesystem::path& dir,
                            const std::vector<std::string>& absent = {}) {
  const auto reference = nlohmann::json::parse(ReadFile(dir / "reference/reference.json"));
  const std::string raw = ReadFile(dir / "reference/reference.raw");
  ASSERT_FALSE(reference.empty());
  size_t matched = 0;
  for (const auto& entry : reference) {
    const std::string name = entry["name"];
    SCOPED_TRACE(name);
    const WeightView* view = store.Find(name);
    if (std::find(absent.begin(), absent.end(), name) != absent.end()) {
      EXPECT_EQ(view, nullptr);
      continue;
    }
    ASSERT_NE(view, nullptr);
    EXPECT_EQ(DTypeName(view->dtype), entry["dtype"].get<std::string>());
    EXPECT_EQ(view->shape, entry["shape"].get<std::vector<int64_t>>());
    ASSERT_EQ(view->nbytes, entry["nbytes"].get<size_t>());
    EXPECT_EQ(std::memcmp(view->data, raw.data() + entry["offset"].get<size_t>(), view->nbytes), 0);
    ++matched;
  }
  EXPECT_EQ(store.size(), matched);
}

class FormatsTest : public ::testing::TestWithParam<const char*> {};

TEST_P(FormatsTest, SafetensorsAndBinHoldWhatTorchLoadReads) {
  TempDir dir;
  ASSERT_TRUE(
      MakeCheckpoint(dir.path(), {"--seed", "7", "--format", "both", "--dtype", GetParam()}));
  auto bin = WeightStore::OpenPytorchBin(dir.path() / "pytorch_model.bin");
  ASSERT_TRUE(bin.ok()) << bin.status().ToString();
  ExpectMatchesTorchLoad(*bin, dir.path());
  // The tied head shares the embedding's storage in the .bin, as in model.state_dict().
  const WeightView* head = bin->Find("lm_head.weight");
  ASSERT_NE(head, nullptr);
  EXPECT_EQ(head->data, bin->Find("model.decoder.embed_tokens.weight")->data);

  // save_pretrained's safetensors leave the tied head out.
  auto safetensors = WeightStore::OpenSafetensors(dir.path() / "model.safetensors");
  ASSERT_TRUE(safetensors.ok()) << safetensors.status().ToString();
  ExpectMatchesTorchLoad(*safetensors, dir.path(), {"lm_head.weight"});

  const WeightView* positions = safetensors->Find("model.decoder.embed_positions.weight");
  ASSERT_NE(positions, nullptr);
  EXPECT_EQ(positions->shape, (std::vector<int64_t>{128 + 2, 64}));  // OPT's offset of 2
  // Open() prefers safetensors when both are present.
  auto opened = WeightStore::Open(dir.path());
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(opened->format(), "safetensors");
}

INSTANTIATE_TEST_SUITE_P(DTypes, FormatsTest, ::testing::Values("f32", "f16", "bf16"));

TEST(ShardedCheckpointTest, EqualsTheSingleFile) {
  TempDir single, sharded;
  const std::vector<std::string> model = {
      "--seed",  "11", "--tie-word-embeddings", "0", "--word-embed-proj-dim", "32",
      "--dtype", "f16"};
  auto with = [&](std::vector<std::string> extra) {
    extra.insert(extra.begin(), model.begin(), model.end());
    return extra;
  };
  ASSERT_TRUE(MakeCheckpoint(single.path(), with({"--format", "safetensors"})));
  ASSERT_TRUE(MakeCheckpoint(sharded.path(), with({"--format", "sharded", "--shards", "3"})));
  ASSERT_TRUE(std::filesystem::exists(sharded.path() / "model-00003-of-00003.safetensors"));
  auto a = WeightStore::Open(single.path());
  auto b = WeightStore::Open(sharded.path());
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_EQ(a->Names(), b->Names());
  EXPECT_NE(a->Find("lm_head.weight"), nullptr);
  EXPECT_NE(a->Find("model.decoder.project_in.weight"), nullptr);
  for (const std::string& name : a->Names()) {
    const WeightView& x = *a->Find(name);
    const WeightView& y = *b->Find(name);
    EXPECT_EQ(x.dtype, y.dtype) << name;
    EXPECT_EQ(x.shape, y.shape) << name;
    ASSERT_EQ(x.nbytes, y.nbytes) << name;
    EXPECT_EQ(std::memcmp(x.data, y.data, x.nbytes), 0) << name;
  }
  EXPECT_EQ(a->total_bytes(), b->total_bytes());
}

TEST(ShardedCheckpointTest, ShardedBinHoldsWhatTorchLoadReadsFromTheSingleBin) {
  TempDir single, sharded;
  ASSERT_TRUE(MakeCheckpoint(single.path(), {"--seed", "5", "--format", "bin", "--dtype", "bf16"}));
  ASSERT_TRUE(MakeCheckpoint(sharded.path(), {"--seed", "5", "--format", "sharded-bin", "--dtype",
                                              "bf16", "--shards", "2"}));
  ASSERT_TRUE(std::filesystem::exists(sharded.path() / "pytorch_model.bin.index.json"));
  auto store = WeightStore::Open(sharded.path());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(store->format(), "pytorch");
  ExpectMatchesTorchLoad(*store, single.path());
}

TEST(PytorchBinCheckpointTest, ReadsTheOpt125mKeyLayoutAndArchiveName) {
  // facebook/opt-125m's .bin: keys without "model.", no lm_head; newer torch versions
  // name the zip's top folder "archive".
  TempDir dir;
  ASSERT_TRUE(MakeCheckpoint(
      dir.path(), {"--seed", "3", "--format", "bin", "--dtype", "f16", "--bin-prefix", "none",
                   "--bin-archive-name", "archive", "--do-layer-norm-before", "0"}));
  auto store = WeightStore::Open(dir.path());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(store->format(), "pytorch");
  ExpectMatchesTorchLoad(*store, dir.path());
  EXPECT_NE(store->Find("decoder.layers.1.fc2.bias"), nullptr);
  EXPECT_EQ(store->Find("lm_head.weight"), nullptr);
  EXPECT_EQ(store->Find("decoder.final_layer_norm.weight"), nullptr);  // post-norm OPT
}

}  // namespace
}  // namespace lantern::model
