// Normalizers: rewrite the text before pre-tokenization (tokenizer.json "normalizer").
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "base/status.h"

namespace lantern::tokenizer {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Rewrites valid UTF-8 `text` in place; the result is valid UTF-8.
  virtual void Normalize(std::string& text) const = 0;
};

// Builds the normalizer that `config` describes (NFC, NFKC, NFD, NFKD, Prepend, Replace,
// Lowercase, Strip, StripAccents, Sequence). Any other type is an Unimplemented error
// naming it.
Result<std::unique_ptr<Normalizer>> ParseNormalizer(const nlohmann::json& config);

}  // namespace lantern::tokenizer
