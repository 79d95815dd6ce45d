#include "model/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "loader_test_util.h"

namespace lantern::model {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

// facebook/opt-125m's config.json as published on the Hugging Face Hub.
constexpr const char* kOpt125m = R"({
  "_name_or_path": "facebook/opt-125m", "_remove_final_layer_norm": false,
  "activation_dropout": 0.0, "activation_function": "relu",
  "architectures": ["OPTForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 2,
  "do_layer_norm_before": true, "dropout": 0.1, "eos_token_id": 2, "ffn_dim": 3072,
  "hidden_size": 768, "init_std": 0.02, "layerdrop": 0.0, "max_position_embeddings": 2048,
  "model_type": "opt", "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 1,
  "prefix": "</s>", "torch_dtype": "float16", "transformers_version": "4.21.0.dev0",
  "use_cache": true, "vocab_size": 50272, "word_embed_proj_dim": 768})";

// Replaces `"field": <old value>` in kOpt125m (or removes the field when value is empty).
std::string Opt125mWith(const std::string& field, const std::string& value) {
  std::string text = kOpt125m;
  const std::string key = "\"" + field + "\": ";
  size_t at = text.find(key);
  EXPECT_NE(at, std::string::npos) << field;
  size_t end = text.find_first_of(",}", at + key.size());
  if (text[at + key.size()] == '[') end = text.find(']', at) + 1;
  if (value.empty()) return text.erase(at, end - at + (text[end] == ',' ? 1 : 0));
  return text.replace(at, end - at, key + value);
}

Status ParseError(const std::string& text) {
  auto config = ParseModelConfig(text, "/models/x/config.json");
  EXPECT_FALSE(config.ok());
  return config.ok() ? Status() : config.status();
}

::testing::Matcher<const std::string&> NamesFileAnd(const std::string& what) {
  return ::testing::AllOf(HasSubstr("/models/x/config.json"), HasSubstr(what));
}

TEST(ConfigTest, ParsesOpt125m) {
  auto config = ParseModelConfig(kOpt125m, "config.json");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->architecture, Architecture::kOpt);
  EXPECT_EQ(config->architecture_name, "OPTForCausalLM");
  EXPECT_EQ(config->model_type, "opt");
  EXPECT_EQ(config->vocab_size, 50272);
  EXPECT_EQ(config->hidden_size, 768);
  EXPECT_EQ(config->num_hidden_layers, 12);
  EXPECT_EQ(config->num_attention_heads, 12);
  EXPECT_EQ(config->num_key_value_heads, 12);
  EXPECT_EQ(config->head_dim, 64);
  EXPECT_EQ(config->intermediate_size, 3072);
  EXPECT_EQ(config->max_position_embeddings, 2048);
  EXPECT_EQ(config->word_embed_proj_dim, 768);
  EXPECT_TRUE(config->do_layer_norm_before);
  EXPECT_FALSE(config->remove_final_layer_norm);
  EXPECT_TRUE(config->enable_bias);  // absent in this older config: OPTConfig's default
  EXPECT_TRUE(config->layer_norm_elementwise_affine);
  EXPECT_TRUE(config->tie_word_embeddings);
  EXPECT_EQ(config->activation_function, "relu");
  EXPECT_EQ(config->torch_dtype, "float16");
  EXPECT_EQ(config->bos_token_id, 2);
  EXPECT_EQ(config->pad_token_id, 1);
  EXPECT_EQ(config->eos_token_ids, std::vector<int>{2});
}

TEST(ConfigTest, PostNormOptDropsFinalLayerNormAndProjects) {
  // facebook/opt-350m: post-norm, 512-wide embeddings projected to 1024.
  std::string text = Opt125mWith("word_embed_proj_dim", "512");
  text.replace(text.find("\"do_layer_norm_before\": true"), 28, "\"do_layer_norm_before\": false");
  auto config = ParseModelConfig(text, "config.json");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_FALSE(config->do_layer_norm_before);
  EXPECT_TRUE(config->remove_final_layer_norm);
  EXPECT_EQ(config->word_embed_proj_dim, 512);
}

TEST(ConfigTest, ReadsTheGeneratorsConfigFromADirectory) {
  TempDir dir;
  ASSERT_TRUE(testing::RunFixtureScript(
      "make_opt_model.py", {"--out", dir.path().string(), "--seed", "1", "--word-embed-proj-dim",
                            "32", "--enable-bias", "0", "--layer-norm-elementwise-affine", "0",
                            "--tie-word-embeddings", "0", "--dtype", "bf16"}));
  auto config = LoadModelConfig(dir.path());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->hidden_size, 64);
  EXPECT_EQ(config->word_embed_proj_dim, 32);
  EXPECT_FALSE(config->enable_bias);
  EXPECT_FALSE(config->layer_norm_elementwise_affine);
  EXPECT_FALSE(config->tie_word_embeddings);
  EXPECT_EQ(config->torch_dtype, "bfloat16");
}

TEST(ConfigTest, MissingFileNamesThePath) {
  TempDir dir;
  auto config = LoadModelConfig(dir.path());
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(config.status().message(), HasSubstr((dir.path() / "config.json").string()));
}

TEST(ConfigTest, RejectsUnknownModelType) {
  Status s = ParseError(Opt125mWith("model_type", "\"bert\""));
  EXPECT_THAT(s.message(), NamesFileAnd("\"model_type\""));
  EXPECT_THAT(s.message(), HasSubstr("'bert'"));
}

TEST(ConfigTest, RejectsMissingModelType) {
  EXPECT_THAT(ParseError(Opt125mWith("model_type", "")).message(),
              NamesFileAnd("\"model_type\" is missing"));
}

TEST(ConfigTest, RejectsUnsupportedArchitectureClass) {
  Status s = ParseError(Opt125mWith("architectures", "[\"OPTForSequenceClassification\"]"));
  EXPECT_THAT(s.message(), NamesFileAnd("\"architectures\""));
  EXPECT_THAT(s.message(), HasSubstr("OPTForSequenceClassification"));
  EXPECT_THAT(ParseError(Opt125mWith("architectures", "[]")).message(),
              NamesFileAnd("\"architectures\""));
}

TEST(ConfigTest, RejectsMissingRequiredFields) {
  for (const char* field : {"vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                            "ffn_dim", "max_position_embeddings"}) {
    EXPECT_THAT(ParseError(Opt125mWith(field, "")).message(),
                NamesFileAnd(std::string("\"").append(field).append("\" is missing")));
  }
}

TEST(ConfigTest, RejectsWrongTypes) {
  EXPECT_THAT(ParseError(Opt125mWith("hidden_size", "\"768\"")).message(),
              NamesFileAnd("\"hidden_size\" must be an integer"));
  EXPECT_THAT(ParseError(Opt125mWith("hidden_size", "768.5")).message(),
              NamesFileAnd("\"hidden_size\" must be an integer"));
  EXPECT_THAT(ParseError(Opt125mWith("do_layer_norm_before", "1")).message(),
              NamesFileAnd("\"do_layer_norm_before\" must be true or false"));
  EXPECT_THAT(ParseError(Opt125mWith("activation_function", "3")).message(),
              NamesFileAnd("\"activation_function\" must be a string"));
  EXPECT_THAT(ParseError(Opt125mWith("eos_token_id", "\"</s>\"")).message(),
              NamesFileAnd("\"eos_token_id\""));
}

TEST(ConfigTest, RejectsOutOfRangeSizes) {
  EXPECT_THAT(ParseError(Opt125mWith("hidden_size", "0")).message(),
              NamesFileAnd("\"hidden_size\" is 0"));
  EXPECT_THAT(ParseError(Opt125mWith("num_hidden_layers", "-1")).message(),
              NamesFileAnd("\"num_hidden_layers\" is -1"));
  EXPECT_THAT(ParseError(Opt125mWith("vocab_size", "18446744073709551615")).message(),
              NamesFileAnd("\"vocab_size\""));
  EXPECT_THAT(ParseError(Opt125mWith("num_attention_heads", "7")).message(),
              NamesFileAnd("\"num_attention_heads\" (7) does not divide the hidden size 768"));
  EXPECT_THAT(ParseError(Opt125mWith("eos_token_id", "50272")).message(),
              NamesFileAnd("\"eos_token_id\" is outside the vocabulary"));
}

TEST(ConfigTest, RejectsBrokenJson) {
  EXPECT_THAT(ParseError("{\"model_type\": \"opt\",").message(), NamesFileAnd("invalid JSON"));
  EXPECT_THAT(ParseError("[1, 2]").message(), NamesFileAnd("expected a JSON object"));
  EXPECT_THAT(ParseError("{\"model_type\": \"op\xff\"}").message(), NamesFileAnd("UTF-8"));
  std::string deep(100000, '[');
  EXPECT_THAT(ParseError(deep).message(), NamesFileAnd("nested deeper"));
}

TEST(ConfigTest, ParsesGpt2) {
  auto config = ParseModelConfig(R"({"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
      "vocab_size": 50257, "n_embd": 768, "n_layer": 12, "n_head": 12, "n_positions": 1024,
      "n_inner": null, "activation_function": "gelu_new", "layer_norm_epsilon": 1e-05,
      "bos_token_id": 50256, "eos_token_id": 50256})",
                                 "config.json");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->architecture, Architecture::kGpt2);
  EXPECT_EQ(config->hidden_size, 768);
  EXPECT_EQ(config->intermediate_size, 3072);
  EXPECT_EQ(config->max_position_embeddings, 1024);
  EXPECT_EQ(config->head_dim, 64);
  EXPECT_EQ(config->activation_function, "gelu_new");
  EXPECT_DOUBLE_EQ(config->layer_norm_epsilon, 1e-5);
  EXPECT_TRUE(config->tie_word_embeddings);
}

TEST(ConfigTest, ParsesLlamaFamily) {
  auto config = ParseModelConfig(R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama",
      "vocab_size": 128256, "hidden_size": 2048, "num_hidden_layers": 16,
      "num_attention_heads": 32, "num_key_value_heads": 8, "intermediate_size": 8192,
      "max_position_embeddings": 131072, "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
      "rope_scaling": {"factor": 32.0, "rope_type": "llama3"}, "hidden_act": "silu",
      "tie_word_embeddings": true, "bos_token_id": 128000, "eos_token_id": [128001, 128009],
      "torch_dtype": "bfloat16"})",
                                 "config.json");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->architecture, Architecture::kLlama);
  EXPECT_EQ(config->num_key_value_heads, 8);
  EXPECT_EQ(config->head_dim, 64);
  EXPECT_DOUBLE_EQ(config->rms_norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(config->rope_theta, 500000.0);
  EXPECT_THAT(config->rope_scaling_json, HasSubstr("llama3"));
  EXPECT_EQ(config->eos_token_ids, (std::vector<int>{128001, 128009}));
  EXPECT_TRUE(config->tie_word_embeddings);
  EXPECT_FALSE(config->attention_bias);

  auto qwen3 = ParseModelConfig(R"({"architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3",
      "vocab_size": 151936, "hidden_size": 1024, "num_hidden_layers": 28, "head_dim": 128,
      "num_attention_heads": 16, "num_key_value_heads": 8, "intermediate_size": 3072,
      "max_position_embeddings": 40960, "rope_scaling": null})",
                                "config.json");
  ASSERT_TRUE(qwen3.ok()) << qwen3.status().ToString();
  EXPECT_EQ(qwen3->head_dim, 128);  // explicit: 16 * 128 != 1024
  EXPECT_FALSE(qwen3->tie_word_embeddings);
  EXPECT_TRUE(qwen3->rope_scaling_json.empty());

  auto gqa = ParseModelConfig(R"({"model_type": "mistral", "vocab_size": 32000,
      "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
      "num_key_value_heads": 5, "intermediate_size": 14336, "max_position_embeddings": 32768})",
                              "/models/x/config.json");
  ASSERT_FALSE(gqa.ok());
  EXPECT_THAT(gqa.status().message(), NamesFileAnd("\"num_key_value_heads\" (5)"));
}

}  // namespace
}  // namespace lantern::model
