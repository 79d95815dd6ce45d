// The engine works on token ids; text (for stop strings and streamed deltas) comes from an
// incremental detokenizer the embedder plugs in (the server plugs the real tokenizer).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

namespace lantern::engine {

class IncrementalDetokenizer {
 public:
  virtual ~IncrementalDetokenizer() = default;
  // Appends one generated token and returns the text it completes: possibly empty (an
  // incomplete UTF-8 sequence held back, or a skipped special token), always whole UTF-8.
  virtual std::string Append(int32_t token_id) = 0;
};

// Makes the detokenizer of one output sequence. `prompt_ids` lets it start in the prompt's
// context (byte-level BPE joins across the boundary).
using DetokenizerFactory = std::function<std::unique_ptr<IncrementalDetokenizer>(
    std::span<const int32_t> prompt_ids, bool skip_special_tokens)>;

}  // namespace lantern::engine
