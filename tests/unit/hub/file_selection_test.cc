// Which files of a repo are fetched (hub/file_selection.h), and progress formatting.
#include "hub/file_selection.h"

#include <gtest/gtest.h>

#include "hub/progress.h"

namespace lantern::hub {
namespace {

std::vector<RepoFile> Files(std::initializer_list<const char*> names) {
  std::vector<RepoFile> files;
  for (const char* name : names) files.push_back(RepoFile{name, 1, "id", ""});
  return files;
}

using Names = std::vector<std::string>;

TEST(FileSelectionTest, ConfigsTokenizerAndOneSafetensorsFile) {
  auto selection = SelectFiles(
      Files({"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
             "special_tokens_map.json", "chat_template.jinja", "model.safetensors",
             "pytorch_model.bin", "model.gguf", "onnx/model.onnx", "original/consolidated.00.pth",
             "original/tokenizer.model", "README.md", "logo.png", ".gitattributes"}));
  ASSERT_TRUE(selection.ok()) << selection.status().message();
  EXPECT_EQ(selection->metadata,
            (Names{"config.json", "generation_config.json", "tokenizer.json",
                   "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja"}));
  EXPECT_EQ(selection->weights, Names{"model.safetensors"});
  EXPECT_EQ(selection->weight_index, "");
}

TEST(FileSelectionTest, ShardsComeFromTheIndex) {
  auto files = Files({"config.json", "model.safetensors.index.json",
                      "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                      "consolidated.safetensors", "pytorch_model.bin.index.json"});
  auto selection = SelectFiles(files);
  ASSERT_TRUE(selection.ok());
  EXPECT_EQ(selection->weight_index, "model.safetensors.index.json");
  EXPECT_EQ(selection->metadata, (Names{"config.json", "model.safetensors.index.json"}));
  auto shards = WeightsFromIndex(R"({"metadata": {}, "weight_map": {
      "b": "model-00002-of-00002.safetensors", "a": "model-00001-of-00002.safetensors",
      "c": "model-00002-of-00002.safetensors"}})",
                                 files);
  ASSERT_TRUE(shards.ok()) << shards.status().message();
  EXPECT_EQ(*shards,
            (Names{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}));
  EXPECT_FALSE(WeightsFromIndex(R"({"weight_map": {"a": "missing.safetensors"}})", files).ok());
  EXPECT_FALSE(WeightsFromIndex(R"({"weight_map": {}})", files).ok());
  EXPECT_FALSE(WeightsFromIndex("not json", files).ok());
}

TEST(FileSelectionTest, PytorchOnlyWithoutSafetensors) {
  auto single = SelectFiles(Files({"config.json", "vocab.json", "merges.txt", "pytorch_model.bin",
                                   "tf_model.h5", "flax_model.msgpack"}));
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->weights, Names{"pytorch_model.bin"});
  auto sharded = SelectFiles(
      Files({"config.json", "pytorch_model.bin.index.json", "pytorch_model-00001-of-00002.bin"}));
  ASSERT_TRUE(sharded.ok());
  EXPECT_EQ(sharded->weight_index, "pytorch_model.bin.index.json");
}

TEST(FileSelectionTest, NothingToServeIsAnError) {
  auto no_config = SelectFiles(Files({"model.safetensors"}));
  ASSERT_FALSE(no_config.ok());
  EXPECT_NE(no_config.status().message().find("config.json"), std::string::npos);
  auto no_weights = SelectFiles(Files({"config.json", "model.gguf"}));
  ASSERT_FALSE(no_weights.ok());
  EXPECT_NE(no_weights.status().message().find("safetensors"), std::string::npos);
}

TEST(ProgressTest, HumanBytes) {
  EXPECT_EQ(Progress::Bytes(999), "999 B");
  EXPECT_EQ(Progress::Bytes(1500), "1.5 kB");
  EXPECT_EQ(Progress::Bytes(269060552), "269.1 MB");
}

}  // namespace
}  // namespace lantern::hub
