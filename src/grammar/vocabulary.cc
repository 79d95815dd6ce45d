#include <algorithm>
#include <numeric>
#include <optional>

#include "grammar/compiled_grammar.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/tokenizer.h"

namespace lantern::grammar {
namespace {

// Longer tokens are never allowed (none of a real vocabulary comes close).
constexpr size_t kMaxTokenBytes = 1024;

TokenTrie BuildTrie(const std::vector<std::string>& tokens, const std::vector<bool>& special) {
  std::vector<int32_t> order;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (!tokens[i].empty() && tokens[i].size() <= kMaxTokenBytes && !special[i]) order.push_back(static_cast<int32_t>(i));
  }
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return tokens[a] < tokens[b]; });
  TokenTrie t;
  t.byte.push_back(0);
  t.depth.push_back(0);
  std::vector<std::vector<int32_t>> ending(1);
  std::vector<uint32_t> path = {0};  // node at each depth of the current token
  const std::string* previous = nullptr;
  for (int32_t id : order) {
    const std::string& s = tokens[id];
    size_t common = 0;
    if (previous) {
      const size_t limit = std::min(previous->size(), s.size());
      while (common < limit && (*previous)[common] == s[common]) ++common;
    }
    path.resize(common + 1);
    for (size_t d = common; d < s.size(); ++d) {
      path.push_back(static_cast<uint32_t>(t.byte.size()));
      t.byte.push_back(static_cast<uint8_t>(s[d]));
      t.depth.push_back(static_cast<uint16_t>(std::min<size_t>(d + 1, UINT16_MAX)));
      ending.emplace_back();
    }
    ending[path[s.size()]].push_back(id);
    previous = &s;
  }
  const uint32_t n = static_cast<uint32_t>(t.byte.size());
  // Subtree ends: a node's subtree runs to the next node no deeper than it.
  t.end.assign(n, n);
  std::vector<uint32_t> open;
  for (uint32_t i = 0; i < n; ++i) {
    while (!open.empty() && t.depth[open.back()] >= t.depth[i]) {
      t.end[open.back()] = i;
      open.pop_back();
    }
    open.push_back(i);
  }
  t.token_begin.reserve(n + 1);
  for (uint32_t i = 0; i < n; ++i) {
    t.token_begin.push_back(static_cast<uint32_t>(t.tokens.size()));
    t.tokens.insert(t.tokens.end(), ending[i].begin(), ending[i].end());
  }
  t.token_begin.push_back(static_cast<uint32_t>(t.tokens.size()));
  return t;
}

// "<0xAB>" (SentencePiece byte fallback) -> the byte, else -1.
int ByteFallback(const std::string& token) {
  if (token.size() != 6 || token.compare(0, 3, "<0x") != 0 || token[5] != '>') return -1;
  int v = 0;
  for (int i = 3; i < 5; ++i) {
    const char c = token[i];
    const int h = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                         : -1;
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

// A byte-level token ("Ġthe") back to its bytes; nullopt when a character is outside
// GPT-2's byte alphabet.
std::optional<std::string> ByteLevelBytes(const std::string& token) {
  std::string out;
  size_t pos = 0;
  while (pos < token.size()) {
    const auto b0 = static_cast<unsigned char>(token[pos]);
    const int len = b0 < 0x80 ? 1 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4;
    if (pos + len > token.size()) return std::nullopt;
    char32_t cp = len == 1 ? b0 : len == 2 ? b0 & 0x1F : len == 3 ? b0 & 0x0F : b0 & 0x07;
    for (int i = 1; i < len; ++i) cp = (cp << 6) | (token[pos + i] & 0x3F);
    pos += len;
    const int byte = tokenizer::CharToByte(cp);
    if (byte < 0) return std::nullopt;
    out.push_back(static_cast<char>(byte));
  }
  return out;
}

}  // namespace

Vocabulary::Vocabulary() : impl_(std::make_unique<Impl>()) {}
Vocabulary::~Vocabulary() = default;

std::shared_ptr<const Vocabulary> Vocabulary::Create(std::vector<std::string> token_bytes,
                                                     std::vector<bool> special) {
  std::shared_ptr<Vocabulary> v(new Vocabulary());
  special.resize(token_bytes.size(), false);
  v->impl_->trie = BuildTrie(token_bytes, special);
  v->impl_->tokens = std::move(token_bytes);
  v->impl_->special = std::move(special);
  return v;
}

std::shared_ptr<const Vocabulary> Vocabulary::FromTokenizer(const tokenizer::Tokenizer& tok) {
  const int32_t n = tok.vocab_size();
  std::vector<std::optional<std::string>> raw(n);
  // Byte-level vocabularies spell a space "Ġ"; SentencePiece ones "▁".
  int byte_level = 0, metaspace = 0;
  for (int32_t id = 0; id < n; ++id) {
    raw[id] = tok.IdToToken(id);
    if (!raw[id]) continue;
    if (raw[id]->find("\xC4\xA0") != std::string::npos) ++byte_level;   // Ġ
    if (raw[id]->find("\xE2\x96\x81") != std::string::npos) ++metaspace;  // ▁
  }
  std::vector<std::string> bytes(n);
  std::vector<bool> special(n, false);
  for (int32_t id = 0; id < n; ++id) {
    if (!raw[id]) continue;
    if (tok.IsSpecial(id)) {
      special[id] = true;
      continue;
    }
    const std::string& s = *raw[id];
    if (byte_level >= metaspace) {
      if (auto b = ByteLevelBytes(s)) {
        bytes[id] = std::move(*b);
      } else {
        bytes[id] = s;  // an added token written as plain text
      }
      continue;
    }
    if (const int b = ByteFallback(s); b >= 0) {
      bytes[id] = std::string(1, static_cast<char>(b));
      continue;
    }
    std::string text;
    for (size_t i = 0; i < s.size();) {
      if (s.compare(i, 3, "\xE2\x96\x81") == 0) {
        text += ' ';
        i += 3;
      } else {
        text += s[i++];
      }
    }
    bytes[id] = std::move(text);
  }
  return Create(std::move(bytes), std::move(special));
}

int Vocabulary::size() const { return static_cast<int>(impl_->tokens.size()); }
const std::string& Vocabulary::token(int32_t id) const { return impl_->tokens[id]; }
bool Vocabulary::special(int32_t id) const { return impl_->special[id]; }

}  // namespace lantern::grammar
