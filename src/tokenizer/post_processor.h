// Post-processors: add the special tokens a model expects around an encoded text
// (tokenizer.json "post_processor"). Only single sequences are supported; pairs are
// not something a generation server encodes.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/status.h"

namespace lantern::tokenizer {

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // Adds the special tokens to the encoded `ids` of one sequence.
  virtual void Process(std::vector<int32_t>& ids) const = 0;
};

// TemplateProcessing, RobertaProcessing, BertProcessing, ByteLevel and Sequence.
Result<std::unique_ptr<PostProcessor>> ParsePostProcessor(const nlohmann::json& config);

// Wraps ids in `prefix` and `suffix` (the OPT-style "bos $A" template).
std::unique_ptr<PostProcessor> MakeAffixProcessor(std::vector<int32_t> prefix,
                                                  std::vector<int32_t> suffix);

}  // namespace lantern::tokenizer
