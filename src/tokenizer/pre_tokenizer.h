// Pre-tokenizers: split normalized text into the pieces the model encodes one by one
// (tokenizer.json "pre_tokenizer").
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/status.h"

namespace lantern::tokenizer {

struct Piece {
  std::string text;
  // True when the piece begins at the start of the original input; Metaspace's
  // prepend_scheme "first" depends on it.
  bool at_origin = false;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces `pieces` by their split (and possibly rewritten) parts; never leaves an
  // empty piece.
  virtual void PreTokenize(std::vector<Piece>& pieces) const = 0;
};

// Builds the pre-tokenizer that `config` describes (ByteLevel, Split, Metaspace, Digits,
// Whitespace, WhitespaceSplit, Punctuation, BertPreTokenizer, Sequence); any other type
// is an Unimplemented error naming it.
Result<std::unique_ptr<PreTokenizer>> ParsePreTokenizer(const nlohmann::json& config);

}  // namespace lantern::tokenizer
