// Compares Lantern's tokenizers with Hugging Face's (reference.json, written by
// reference.js): encodings with and without special tokens, decodings with and without
// skip_special_tokens, decodings of random id sequences, the incremental detokenizer
// against the full decode, and concurrent encoding against sequential encoding.
// Usage: tokenizer_compare <reference.json> [only this tokenizer]. Exits 1 on any mismatch.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/incremental_detokenizer.h"
#include "tokenizer/tokenizer.h"

namespace {

using json = nlohmann::json;
using lantern::tokenizer::IncrementalDetokenizer;
using lantern::tokenizer::Tokenizer;

std::string Base64Decode(const std::string& in) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int value = 0, bits = -8;
  for (char c : in) {
    const size_t index = kAlphabet.find(c);
    if (index == std::string::npos) break;
    value = (value << 6) + static_cast<int>(index);
    bits += 6;
    if (bits >= 0) {
      out.push_back(static_cast<char>((value >> bits) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

std::string Escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02X", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out.size() > 200 ? out.substr(0, 200) + "..." : out;
}

std::string Ids(const std::vector<int32_t>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size() && i < 40; ++i) {
    if (i > 0) out.push_back(',');
    out.append(std::to_string(ids[i]));
  }
  return out + (ids.size() > 40 ? ",...]" : "]");
}

std::string Stream(const Tokenizer& tokenizer, const std::vector<int32_t>& ids, bool skip) {
  IncrementalDetokenizer detokenizer(tokenizer, skip);
  std::string text;
  for (int32_t id : ids) text += detokenizer.Add(id);
  return text + detokenizer.Flush();
}

struct Counts {
  int checked = 0, failed = 0;
  void Check(bool ok, const std::string& what) {
    ++checked;
    if (ok) return;
    if (++failed <= 8) std::cout << "  MISMATCH " << what << "\n";
  }
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    std::cerr << "usage: tokenizer_compare <reference.json> [tokenizer name]\n";
    return 2;
  }
  std::ifstream in(argv[1]);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const json reference = json::parse(buffer.str(), nullptr, false);
  if (reference.is_discarded()) {
    std::cerr << argv[1] << ": not valid JSON\n";
    return 2;
  }
  std::vector<std::string> corpus;
  for (const json& text : reference["corpus"])
    corpus.push_back(Base64Decode(text.get<std::string>()));

  bool all_ok = true;
  for (const json& entry : reference["tokenizers"]) {
    const std::string name = entry["name"];
    if (argc == 3 && name != argv[2]) continue;
    auto loaded = Tokenizer::Load(entry["dir"].get<std::string>());
    if (!loaded.ok()) {
      std::cout << name << ": LOAD FAILED: " << loaded.status().ToString() << "\n";
      all_ok = false;
      continue;
    }
    const Tokenizer& tokenizer = **loaded;
    Counts encode, decode, stream;
    std::vector<std::vector<int32_t>> sequential(corpus.size());
    for (size_t i = 0; i < corpus.size(); ++i) {
      const auto with = tokenizer.Encode(corpus[i], true);
      const auto without = tokenizer.Encode(corpus[i], false);
      sequential[i] = with;
      const auto ref_with = entry["with_special"][i].get<std::vector<int32_t>>();
      const auto ref_without = entry["without_special"][i].get<std::vector<int32_t>>();
      encode.Check(with == ref_with, "encode #" + std::to_string(i) + " '" + Escape(corpus[i]) +
                                         "'\n    ours " + Ids(with) + "\n    hf   " +
                                         Ids(ref_with));
      encode.Check(without == ref_without, "encode (no special) #" + std::to_string(i));
      for (bool skip : {false, true}) {
        const std::string expected = entry[skip ? "decode_skip" : "decode"][i];
        const std::string ours = tokenizer.Decode(ref_with, skip);
        decode.Check(ours == expected, "decode #" + std::to_string(i) + (skip ? " skip" : "") +
                                           " of " + Ids(ref_with) + "\n    ours '" + Escape(ours) +
                                           "'\n    hf   '" + Escape(expected) + "'");
        stream.Check(Stream(tokenizer, ref_with, skip) == ours,
                     "stream #" + std::to_string(i) + " of " + Ids(ref_with));
      }
    }
    const json& random_ids = entry["random_ids"];
    for (size_t i = 0; i < random_ids.size(); ++i) {
      const auto ids = random_ids[i].get<std::vector<int32_t>>();
      for (bool skip : {false, true}) {
        const std::string expected = entry[skip ? "random_decode_skip" : "random_decode"][i];
        const std::string ours = tokenizer.Decode(ids, skip);
        decode.Check(ours == expected, "random decode #" + std::to_string(i) + " of " + Ids(ids) +
                                           "\n    ours '" + Escape(ours) + "'\n    hf   '" +
                                           Escape(expected) + "'");
        stream.Check(Stream(tokenizer, ids, skip) == ours,
                     "random stream #" + std::to_string(i) + " of " + Ids(ids));
      }
    }
    // Concurrent Encode calls must give the sequential results.
    std::vector<std::thread> threads;
    std::vector<int> thread_failures(4, 0);
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (size_t i = t; i < corpus.size(); i += 2) {
          if (tokenizer.Encode(corpus[i], true) != sequential[i]) ++thread_failures[t];
        }
      });
    }
    for (auto& thread : threads) thread.join();
    int concurrent_failures = 0;
    for (int f : thread_failures) concurrent_failures += f;

    std::printf("%-12s encode %d/%d  decode %d/%d  stream %d/%d  concurrent mismatches %d\n",
                name.c_str(), encode.checked - encode.failed, encode.checked,
                decode.checked - decode.failed, decode.checked, stream.checked - stream.failed,
                stream.checked, concurrent_failures);
    all_ok &=
        encode.failed == 0 && decode.failed == 0 && stream.failed == 0 && concurrent_failures == 0;
  }
  std::cout << (all_ok ? "ALL MATCH\n" : "MISMATCHES FOUND\n");
  return all_ok ? 0 : 1;
}
