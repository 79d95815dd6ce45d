// Decoders: turn a list of token strings back into text (tokenizer.json "decoder").
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/status.h"

namespace lantern::tokenizer {

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Rewrites `tokens` in place (tokenizers' decode_chain); the text is their concatenation.
  virtual void DecodeChain(std::vector<std::string>& tokens) const = 0;
};

// ByteLevel, Metaspace, ByteFallback, Fuse, Strip, Replace, BPEDecoder and Sequence.
Result<std::unique_ptr<Decoder>> ParseDecoder(const nlohmann::json& config);
// The decoder of GPT-2 style byte-level vocabularies.
std::unique_ptr<Decoder> MakeByteLevelDecoder();

}  // namespace lantern::tokenizer
