// JSON Schemas of every supported keyword, generated at random: random walks through the
// allowed tokens (each mask checked against Accept on the whole vocabulary) must end in
// outputs that ajv, a real JSON Schema validator, accepts. Unsupported keywords and invalid
// schemas are errors that name them.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "grammar/grammar.h"
#include "test_vocab.h"

namespace lantern::grammar {
namespace {

using nlohmann::json;

class SchemaGenerator {
 public:
  explicit SchemaGenerator(uint32_t seed) : rng_(seed) {}

  json Schema(int depth) {
    const int kinds = depth >= 3 ? 9 : 13;
    switch (Pick(kinds)) {
      case 0:
        return {{"type", "boolean"}};
      case 1:
        return {{"type", "null"}};
      case 2:
        return Integer();
      case 3:
        return Number();
      case 4:
        return String();
      case 5:
        return {{"enum", Pick(2) ? json{"red", "green", "blé"} : json{1, "two", nullptr, 3.5}}};
      case 6:
        return {{"const", Pick(2) ? json("fixed") : json{{"k", {1, 2}}}}};
      case 7:
        return {{"type", {"string", "null"}}, {"maxLength", 4}};
      case 8:
        return {{"oneOf", {{{"type", "integer"}, {"minimum", 0}, {"maximum", 9}},
                           {{"type", "string"}, {"maxLength", 3}}}}};
      case 9:
      case 10:
        return Object(depth);
      case 11:
        return Array(depth);
      default:
        return {{"anyOf", {Schema(depth + 1), Schema(depth + 1)}}};
    }
  }

  // A recursive tree through $defs and $ref.
  json Tree() {
    return {{"$defs",
             {{"node",
               {{"type", "object"},
                {"properties",
                 {{"value", {{"type", "integer"}}},
                  {"children", {{"type", "array"}, {"items", {{"$ref", "#/$defs/node"}}},
                                {"maxItems", 2}}}}},
                {"required", {"value"}},
                {"additionalProperties", false}}}}},
            {"$ref", "#/$defs/node"}};
  }

 private:
  int Pick(int n) { return static_cast<int>(rng_() % n); }

  json Integer() {
    json s = {{"type", "integer"}};
    switch (Pick(4)) {
      case 0:
        s["minimum"] = -25;
        s["maximum"] = 130;
        break;
      case 1:
        s["exclusiveMinimum"] = 99;
        break;
      case 2:
        s["maximum"] = -7;
        break;
      default:
        break;
    }
    return s;
  }

  json Number() {
    json s = {{"type", "number"}};
    if (Pick(2)) {
      s["minimum"] = 0;
      s["maximum"] = Pick(2) ? 1 : 250;
    }
    return s;
  }

  json String() {
    json s = {{"type", "string"}};
    switch (Pick(5)) {
      case 0: {
        static const char* kPatterns[] = {"^[a-z]{2,5}$", "^\\d{3}-\\d{4}$", "^(foo|bar)+$",
                                          "^[A-Z][a-z]*( [A-Z][a-z]*)?$", "^[^a]{1,4}\\.?$",
                                          "^\"q\\\\\"$"};
        s["pattern"] = kPatterns[Pick(6)];
        break;
      }
      case 1: {
        static const char* kFormats[] = {"date", "time", "date-time", "uuid", "email"};
        s["format"] = kFormats[Pick(5)];
        break;
      }
      case 2:
        s["minLength"] = 2;
        s["maxLength"] = 6;
        break;
      case 3:
        s["maxLength"] = 3;
        break;
      default:
        break;
    }
    return s;
  }

  json Object(int depth) {
    json props = json::object();
    json required = json::array();
    const int n = Pick(4);
    static const char* kNames[] = {"name", "age", "tags", "é", "a b", "q\"uote"};
    for (int i = 0; i < n; ++i) {
      const std::string name = kNames[(i + Pick(6)) % 6];
      if (props.contains(name)) continue;
      props[name] = Schema(depth + 1);
      if (Pick(2)) required.push_back(name);
    }
    json s = {{"type", "object"}, {"properties", props}};
    if (!required.empty()) s["required"] = required;
    switch (Pick(4)) {
      case 0:
        s["additionalProperties"] = false;
        break;
      case 1:
        s["additionalProperties"] = true;
        break;
      case 2:
        s["additionalProperties"] = {{"type", "integer"}};
        break;
      default:
        break;  // unspecified: none (strict)
    }
    return s;
  }

  json Array(int depth) {
    json s = {{"type", "array"}, {"items", Schema(depth + 1)}};
    if (Pick(2)) s["minItems"] = 1;
    if (Pick(2)) s["maxItems"] = 3;
    if (Pick(4) == 0) {
      s["prefixItems"] = {{{"type", "boolean"}}};
      s["minItems"] = 1;
    }
    return s;
  }

  std::mt19937 rng_;
};

// Checks every (schema, output) with ajv; returns its report, empty when all validate.
std::string Validate(const std::vector<std::pair<json, std::string>>& outputs) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("grammar_outputs_" + std::to_string(::getpid()) + ".jsonl");
  {
    std::ofstream out(path);
    for (const auto& [schema, output] : outputs) {
      out << json{{"schema", schema}, {"output", output}}.dump() << "\n";
    }
  }
  const std::string cmd = "LANTERN_NODE_MODULES='" + std::string(LANTERN_NODE_MODULES) +
                          "' node '" + LANTERN_VALIDATOR + "' '" + path.string() + "' 2>&1";
  std::string report;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  char buf[4096];
  while (pipe && fgets(buf, sizeof buf, pipe)) report += buf;
  const int rc = pipe ? ::pclose(pipe) : -1;
  std::filesystem::remove(path);
  return rc == 0 ? "" : report;
}

TEST(JsonSchemaTest, RandomWalksOnGeneratedSchemasValidate) {
  if (!std::filesystem::exists(std::string(LANTERN_NODE_MODULES) + "/ajv")) {
    GTEST_SKIP() << "ajv is not installed (npm --prefix tests install)";
  }
  auto vocab = testing::SmallVocabulary();
  SchemaGenerator gen(2024);
  std::mt19937 rng(11);
  std::vector<std::pair<json, std::string>> outputs;
  std::vector<json> schemas;
  for (int i = 0; i < 60; ++i) schemas.push_back(gen.Schema(0));
  schemas.push_back(gen.Tree());
  for (const json& schema : schemas) {
    auto g = CompileJsonSchema(schema, vocab);
    ASSERT_TRUE(g.ok()) << schema.dump() << ": " << g.status().ToString();
    int finished = 0;
    for (int walk = 0; walk < 8; ++walk) {
      std::string mismatch;
      auto text = testing::RandomWalk(*g, *vocab, rng, 200, &mismatch);
      ASSERT_TRUE(mismatch.empty()) << schema.dump() << ": " << mismatch;
      if (!text) continue;
      ++finished;
      outputs.emplace_back(schema, *text);
    }
    EXPECT_GT(finished, 0) << "no walk finished for " << schema.dump();
  }
  ASSERT_GT(outputs.size(), 200u);
  EXPECT_EQ(Validate(outputs), "");
}

TEST(JsonSchemaTest, JsonObjectIsAnyObject) {
  auto vocab = testing::SmallVocabulary();
  auto g = CompileJsonObject(vocab);
  ASSERT_TRUE(g.ok());
  std::mt19937 rng(3);
  std::vector<std::pair<json, std::string>> outputs;
  for (int walk = 0; walk < 40; ++walk) {
    std::string mismatch;
    auto text = testing::RandomWalk(*g, *vocab, rng, 120, &mismatch);
    ASSERT_TRUE(mismatch.empty()) << mismatch;
    if (text) outputs.emplace_back(json{{"type", "object"}}, *text);
  }
  ASSERT_FALSE(outputs.empty());
  if (std::filesystem::exists(std::string(LANTERN_NODE_MODULES) + "/ajv")) {
    EXPECT_EQ(Validate(outputs), "");
  }
}

TEST(JsonSchemaTest, ErrorsNameTheKeyword) {
  auto vocab = testing::SmallVocabulary();
  struct Case {
    json schema;
    const char* message;
  };
  for (const auto& [schema, message] : std::vector<Case>{
           {{{"type", "string"}, {"not", {{"const", "x"}}}}, "keyword 'not' is not supported"},
           {{{"type", "array"}, {"uniqueItems", true}}, "keyword 'uniqueItems'"},
           {{{"type", "object"}, {"patternProperties", json::object()}}, "'patternProperties'"},
           {{{"type", "strin"}}, "unknown type \"strin\""},
           {{{"$ref", "#/$defs/missing"}}, "points to nothing"},
           {{{"$ref", "https://example.com/s.json"}}, "only local references"},
           {{{"type", "string"}, {"pattern", "(?=x)"}}, "lookaround"},
           {{{"type", "integer"}, {"minimum", 5}, {"maximum", 1}}, "no integer lies"},
           {{{"type", "array"}, {"maxItems", 100000}}, "'maxItems' above"},
           {{{"enum", json::array()}}, "'enum' must be a non-empty array"},
           {{{"properties", {{"a", 3}}}}, "at '/properties/a'"},
           {json(false), "matches nothing"},
       }) {
    auto g = CompileJsonSchema(schema, vocab);
    ASSERT_FALSE(g.ok()) << schema.dump();
    EXPECT_NE(g.status().message().find(message), std::string::npos)
        << schema.dump() << ": " << g.status().message();
  }
}

TEST(JsonSchemaTest, PropertiesComeInTheSchemasOrder) {
  auto vocab = testing::SmallVocabulary();
  auto schema = nlohmann::ordered_json::parse(
      R"({"type": "object", "properties": {"z": {"const": 1}, "name": {"const": 2}, "a": {"const": 3}},
          "required": ["z", "a"]})");
  auto g = CompileJsonSchema(schema, vocab);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  auto accepts = [&](const std::string& text) {
    Matcher m(*g);
    for (char c : text) {
      int32_t id = -1;
      for (int32_t t = 0; t < vocab->size(); ++t) {
        if (vocab->token(t) == std::string(1, c)) id = t;
      }
      if (!m.Accept(id)) return false;
    }
    return m.IsTerminated();
  };
  EXPECT_TRUE(accepts(R"({"z": 1, "name": 2, "a": 3})"));
  EXPECT_TRUE(accepts(R"({"z": 1, "a": 3})"));
  EXPECT_FALSE(accepts(R"({"a": 3, "z": 1})"));
  EXPECT_FALSE(accepts(R"({"z": 1})")) << "'a' is required";
}

TEST(JsonSchemaTest, DeepSchemasAreRefused) {
  json schema = {{"type", "integer"}};
  for (int i = 0; i < 300; ++i) schema = {{"type", "array"}, {"items", schema}};
  auto g = CompileJsonSchema(schema, testing::SmallVocabulary());
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("nested too deeply"), std::string::npos);
}

TEST(JsonSchemaTest, ComposesIntoALargerGrammar) {
  json schema = {{"type", "object"},
                 {"properties", {{"city", {{"enum", {"Paris", "Rome"}}}}}},
                 {"required", {"city"}}};
  auto rules = JsonSchemaToGbnf(schema, "args-");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  auto vocab = testing::SmallVocabulary();
  auto g = CompileGbnf("root ::= \"<call>\" args-root \"</call>\"\n" + *rules, vocab);
  ASSERT_TRUE(g.ok()) << g.status().ToString() << "\n" << *rules;
  Matcher m(*g);
  const std::string text = "<call>{\"city\": \"Rome\"}</call>";
  for (char c : text) {
    int32_t id = -1;
    for (int32_t t = 0; t < vocab->size(); ++t) {
      if (vocab->token(t) == std::string(1, c)) id = t;
    }
    ASSERT_TRUE(m.Accept(id)) << "at '" << c << "'";
  }
  EXPECT_TRUE(m.IsTerminated());
}

}  // namespace
}  // namespace lantern::grammar
