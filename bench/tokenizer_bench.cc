// Tokenizer benchmark, Lantern side: encodes the documents written by
// tokenizer_bench.js with each tokenizer, single-threaded, best of three timed passes
// after one warm-up pass (the same protocol as the reference side).
// Usage: tokenizer_bench <corpus.json> <name=model_dir>...
// Prints one JSON line per tokenizer: {"name", "impl", "mb_per_s", "tokens_per_s", "tokens"}.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: tokenizer_bench <corpus.json> <name=model_dir>...\n";
    return 2;
  }
  std::ifstream in(argv[1]);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const nlohmann::json docs_json = nlohmann::json::parse(buffer.str(), nullptr, false);
  if (!docs_json.is_array()) {
    std::cerr << argv[1] << ": expected a JSON list of documents\n";
    return 2;
  }
  std::vector<std::string> docs = docs_json.get<std::vector<std::string>>();
  size_t bytes = 0;
  for (const std::string& doc : docs) bytes += doc.size();

  for (int i = 2; i < argc; ++i) {
    const std::string spec = argv[i];
    const size_t eq = spec.find('=');
    if (eq == std::string::npos) {
      std::cerr << "expected name=model_dir, got " << spec << "\n";
      return 2;
    }
    auto loaded = lantern::tokenizer::Tokenizer::Load(spec.substr(eq + 1));
    if (!loaded.ok()) {
      std::cerr << spec << ": " << loaded.status().ToString() << "\n";
      return 1;
    }
    const auto& tokenizer = **loaded;
    auto encode_all = [&] {
      size_t tokens = 0;
      for (const std::string& doc : docs) tokens += tokenizer.Encode(doc, false).size();
      return tokens;
    };
    encode_all();  // warm-up (fills the word cache)
    double best = 1e30;
    size_t tokens = 0;
    for (int run = 0; run < 3; ++run) {
      const auto start = std::chrono::steady_clock::now();
      tokens = encode_all();
      best = std::min(
          best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    std::printf(
        "{\"name\":\"%s\",\"impl\":\"lantern\",\"mb_per_s\":%.2f,\"tokens_per_s\":%.0f,"
        "\"tokens\":%zu}\n",
        spec.substr(0, eq).c_str(), bytes / 1e6 / best, tokens / best, tokens);
  }
  return 0;
}
