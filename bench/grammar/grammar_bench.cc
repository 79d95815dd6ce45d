// Guided decoding's costs on Llama 3's 128k-token vocabulary: building the vocabulary,
// compiling a typical tool schema, and the token mask per generated token while a JSON
// document for a nested schema is written token by token (the first sequence meets each
// parser state first; a second one finds the masks cached).
//
//   build/bench/grammar/grammar_bench [TOKENIZER_DIR]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "grammar/grammar.h"
#include "tokenizer/tokenizer.h"

using namespace lantern;
using nlohmann::json;

namespace {

double Ms(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

const json kToolSchema = json::parse(R"({
  "type": "object",
  "properties": {
    "location": {"type": "string", "description": "City and country, e.g. Paris, France"},
    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
    "days": {"type": "integer", "minimum": 1, "maximum": 14},
    "include_hourly": {"type": "boolean"}
  },
  "required": ["location", "unit"],
  "additionalProperties": false
})");

const json kNestedSchema = json::parse(R"({
  "type": "object",
  "properties": {
    "id": {"type": "string", "format": "uuid"},
    "name": {"type": "string"},
    "age": {"type": "integer", "minimum": 0, "maximum": 150},
    "email": {"type": "string", "format": "email"},
    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 8},
    "address": {
      "type": "object",
      "properties": {
        "street": {"type": "string"}, "city": {"type": "string"},
        "zip": {"type": "string", "pattern": "^[0-9]{5}$"},
        "geo": {"type": "object", "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}},
                "required": ["lat", "lon"]}
      },
      "required": ["street", "city", "zip"]
    },
    "orders": {"type": "array", "items": {
      "type": "object",
      "properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1},
                     "status": {"enum": ["new", "shipped", "delivered"]}},
      "required": ["sku", "qty", "status"]}}
  },
  "required": ["id", "name", "age", "email", "tags", "address", "orders"]
})");

const char* kDocument = R"({"id": "3f2b8c1e-9a7d-4e2b-8f10-6c5d4a3b2e1f", "name": "Ada Lovelace", "age": 36, "email": "ada@example.com", "tags": ["math", "engines", "poetry"], "address": {"street": "12 St James's Square", "city": "London", "zip": "10001", "geo": {"lat": 51.5074, "lon": -0.1278}}, "orders": [{"sku": "AE-1843", "qty": 2, "status": "shipped"}, {"sku": "NOTE-G", "qty": 1, "status": "delivered"}, {"sku": "BERN-7", "qty": 12, "status": "new"}]})";

struct Pass {
  std::vector<double> ms;
  bool complete = false;
};

Pass Generate(const grammar::GrammarHandle& g, const std::vector<int32_t>& ids, int vocab_size) {
  grammar::Matcher m(g);
  std::vector<uint32_t> bits((vocab_size + 31) / 32);
  Pass pass;
  for (int32_t id : ids) {
    const auto a = std::chrono::steady_clock::now();
    m.FillMask(bits);
    const auto b = std::chrono::steady_clock::now();
    pass.ms.push_back(Ms(a, b));
    if (!((bits[id >> 5] >> (id & 31)) & 1) || !m.Accept(id)) {
      std::fprintf(stderr, "token %d refused after %zu tokens\n", id, pass.ms.size());
      return pass;
    }
  }
  pass.complete = m.IsTerminated();
  return pass;
}

void Report(const char* what, Pass pass) {
  auto& v = pass.ms;
  double total = 0;
  for (double x : v) total += x;
  std::sort(v.begin(), v.end());
  std::printf("%-34s tokens %4zu  mean %7.3f ms  p50 %7.3f  p90 %7.3f  max %8.3f  (%s)\n", what,
              v.size(), total / v.size(), v[v.size() / 2], v[v.size() * 9 / 10], v.back(),
              pass.complete ? "complete" : "INCOMPLETE");
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : LANTERN_LLAMA3_TOKENIZER;
  auto tok = tokenizer::Tokenizer::Load(dir);
  if (!tok.ok()) {
    std::fprintf(stderr, "%s\n", tok.status().ToString().c_str());
    return 1;
  }
  auto t0 = std::chrono::steady_clock::now();
  auto vocab = grammar::Vocabulary::FromTokenizer(**tok);
  auto t1 = std::chrono::steady_clock::now();
  std::printf("vocabulary: %d tokens, built in %.1f ms\n", vocab->size(), Ms(t0, t1));

  t0 = std::chrono::steady_clock::now();
  auto tool = grammar::CompileJsonSchema(kToolSchema, vocab);
  t1 = std::chrono::steady_clock::now();
  auto tool_again = grammar::CompileJsonSchema(kToolSchema, vocab);
  auto t2 = std::chrono::steady_clock::now();
  if (!tool.ok() || !tool_again.ok()) return 1;
  std::printf("compile tool schema: %.3f ms (cached: %.4f ms)\n", Ms(t0, t1), Ms(t1, t2));

  t0 = std::chrono::steady_clock::now();
  auto nested = grammar::CompileJsonSchema(kNestedSchema, vocab);
  t1 = std::chrono::steady_clock::now();
  if (!nested.ok()) {
    std::fprintf(stderr, "%s\n", nested.status().ToString().c_str());
    return 1;
  }
  std::printf("compile nested schema: %.3f ms\n", Ms(t0, t1));

  // Written as json::dump writes it: keys in the order the grammar has them.
  const auto ids = (*tok)->Encode(json::parse(kDocument).dump(), /*add_special_tokens=*/false);
  Report("nested schema, first sequence", Generate(*nested, ids, vocab->size()));
  Report("nested schema, second sequence", Generate(*nested, ids, vocab->size()));
  auto any = grammar::CompileJsonObject(vocab);
  if (!any.ok()) return 1;
  Report("json_object, first sequence", Generate(*any, ids, vocab->size()));
  return 0;
}
