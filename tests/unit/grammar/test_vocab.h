// A small vocabulary for the grammar tests: every printable ASCII byte, newline and tab,
// the two bytes of "é" apart and together, and multi-byte tokens that cross JSON's
// structure ("{\"", "\":", ...), so that masks must reason across token boundaries.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "grammar/grammar.h"

namespace lantern::grammar::testing {

inline std::shared_ptr<const Vocabulary> SmallVocabulary() {
  std::vector<std::string> tokens;
  std::vector<bool> special;
  tokens.push_back("<eos>");  // id 0: a special token, never allowed by a grammar
  special.push_back(true);
  for (int c = 0x20; c < 0x7F; ++c) tokens.push_back(std::string(1, static_cast<char>(c)));
  for (const char* t : {"\n", "\t", "\xC3", "\xA9", "\xC3\xA9", "{\"", "\":", "\",", "\"}", "\":\"",
                        "true", "false", "null", "12", "-0", "  ", "ab", "name", "\"]", "[\"",
                        "},{", "e+", ".5", "\\u00", "\\\"", "20", "-01", "T1", ":30", "Z\"", "\\n",
                        "\n  ", "@ex", "ample.com"}) {
    tokens.push_back(t);
  }
  special.resize(tokens.size(), false);
  return Vocabulary::Create(std::move(tokens), std::move(special));
}

inline bool Allowed(const std::vector<uint32_t>& bits, int32_t t) {
  return (bits[t >> 5] >> (t & 31)) & 1;
}

// A random walk through the allowed tokens: the text, or nothing when it did not finish
// within `max_tokens`. Every mask is checked against Accept on every token on the way.
inline std::optional<std::string> RandomWalk(const GrammarHandle& g, const Vocabulary& vocab,
                                             std::mt19937& rng, int max_tokens,
                                             std::string* mismatch) {
  Matcher m(g);
  std::string text;
  std::vector<uint32_t> bits((vocab.size() + 31) / 32);
  for (int step = 0; step < max_tokens; ++step) {
    if (m.IsTerminated()) return text;
    if (m.CanEnd() && rng() % 4 == 0) return text;
    m.FillMask(bits);
    std::vector<int32_t> allowed;
    for (int32_t t = 0; t < vocab.size(); ++t) {
      Matcher probe = m;  // copy: does t advance?
      const bool accepts = probe.Accept(t);
      if (accepts != Allowed(bits, t)) {
        *mismatch = "after " + text + ": token '" + vocab.token(t) + "' mask " +
                    (Allowed(bits, t) ? "allows" : "forbids") + " but Accept " +
                    (accepts ? "takes" : "refuses") + " it";
        return std::nullopt;
      }
      if (accepts) allowed.push_back(t);
    }
    if (allowed.empty()) {
      if (!m.CanEnd()) *mismatch = "dead end after " + text;
      return m.CanEnd() ? std::optional<std::string>(text) : std::nullopt;
    }
    const int32_t t = allowed[rng() % allowed.size()];
    m.Accept(t);
    text += vocab.token(t);
  }
  return std::nullopt;
}

}  // namespace lantern::grammar::testing
