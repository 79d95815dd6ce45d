// Bad Llama-family directories give errors that name the tensor, field or setting.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

#include "model/model.h"
#include "opt_test_util.h"

namespace lantern::model {
namespace {

using testing::TempDir;

class LlamaErrorsTest : public ::testing::Test {
 protected:
  void Make(std::vector<std::string> flags) {
    std::vector<std::string> args = {"--out", dir_.path().string(), "--seed", "1"};
    args.insert(args.end(), flags.begin(), flags.end());
    ASSERT_TRUE(testing::RunFixture("make_llama_model.py", args));
  }
  // Rewrites config.json with `edit` applied.
  void EditConfig(const std::function<void(nlohmann::json&)>& edit) {
    auto config = nlohmann::json::parse(testing::ReadFile(dir_.path() / "config.json"));
    edit(config);
    testing::WriteFile(dir_.path() / "config.json", config.dump(2));
  }
  std::string LoadError() {
    auto model = LoadModel(dir_.path(), {.num_threads = 1});
    EXPECT_FALSE(model.ok());
    return model.ok() ? "" : model.status().ToString();
  }
  TempDir dir_;
};

TEST_F(LlamaErrorsTest, MissingLayerTensorIsNamed) {
  Make({});
  EditConfig([](nlohmann::json& c) { c["num_hidden_layers"] = 3; });
  EXPECT_NE(LoadError().find("model.layers.2.input_layernorm.weight"), std::string::npos);
}

TEST_F(LlamaErrorsTest, UntiedConfigWithoutLmHeadNamesIt) {
  Make({"--tie-word-embeddings", "1"});
  EditConfig([](nlohmann::json& c) { c["tie_word_embeddings"] = false; });
  EXPECT_NE(LoadError().find("lm_head.weight"), std::string::npos);
}

TEST_F(LlamaErrorsTest, MissingQwen3NormIsNamed) {
  Make({"--model-type", "qwen2"});
  // A Qwen2 checkpoint declared as Qwen3 lacks the q/k norms (and has extra biases).
  EditConfig([](nlohmann::json& c) {
    c["model_type"] = "qwen3";
    c["architectures"] = {"Qwen3ForCausalLM"};
  });
  EXPECT_NE(LoadError().find("self_attn.q_norm.weight"), std::string::npos);
}

TEST_F(LlamaErrorsTest, UnsupportedRopeTypeIsNamed) {
  Make({"--rope-scaling", R"({"rope_type": "longrope", "factor": 2.0})"});
  const std::string error = LoadError();
  EXPECT_NE(error.find("\"longrope\""), std::string::npos) << error;
  EXPECT_NE(error.find("llama3"), std::string::npos) << error;  // lists what is supported
}

TEST_F(LlamaErrorsTest, MissingRopeFieldIsNamed) {
  Make({"--rope-scaling", R"({"rope_type": "llama3", "factor": 8.0, "high_freq_factor": 4.0,)"
                          R"( "original_max_position_embeddings": 32})"});
  EXPECT_NE(LoadError().find("low_freq_factor"), std::string::npos);
}

TEST_F(LlamaErrorsTest, UnsupportedActivationIsNamed) {
  Make({});
  EditConfig([](nlohmann::json& c) { c["hidden_act"] = "gelu"; });
  EXPECT_NE(LoadError().find("\"gelu\""), std::string::npos);
}

TEST_F(LlamaErrorsTest, RopeScalingExtendsTheContextAsVllmDoes) {
  Make({"--rope-scaling", R"({"rope_type": "linear", "factor": 2.0})"});
  auto model = LoadModel(dir_.path(), {.num_threads = 1});
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->config().max_position_embeddings, 256);
}

// transformers >= 5 writes rope_theta and the scaling keys as one "rope_parameters".
TEST_F(LlamaErrorsTest, RopeParametersOfTransformers5AreRead) {
  Make({});
  EditConfig([](nlohmann::json& c) {
    c.erase("rope_scaling");
    c.erase("rope_theta");
    c["rope_parameters"] = {{"rope_type", "linear"}, {"factor", 4.0}, {"rope_theta", 5e5}};
  });
  auto config = LoadModelConfig(dir_.path());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->rope_theta, 5e5);
  auto model = LoadModel(dir_.path(), {.num_threads = 1});
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->config().max_position_embeddings, 4 * 128);
}

}  // namespace
}  // namespace lantern::model
