// Streaming decode: feed generated ids one at a time, get text as soon as it is final.
//
// Text is held back while the decoded tail is incomplete UTF-8 (a multi-byte character
// split over byte-level or byte-fallback tokens) and while the last token is a
// byte-fallback token "<0xXX>", whose run of bytes the next token may still invalidate. The
// concatenation of everything Add and Flush return equals tokenizer.Decode(all ids,
// skip_special_tokens).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace lantern::tokenizer {

class IncrementalDetokenizer {
 public:
  // `tokenizer` must outlive this object.
  IncrementalDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens);

  // Appends `id` and returns the text that became final (often empty).
  std::string Add(int32_t id);
  // Returns the text still held back, incomplete characters decoded as U+FFFD. Call
  // once at the end of the sequence.
  std::string Flush();

  // All ids added so far.
  const std::vector<int32_t>& ids() const { return ids_; }

 private:
  const Tokenizer& tokenizer_;
  bool skip_special_tokens_;
  std::vector<int32_t> ids_;
  // ids_[prefix_, read_) is context already emitted, decoded again so that decoders
  // that treat the first token specially (leading-space stripping) see the same thing
  // as a full decode; ids_[read_, end) is not emitted yet.
  size_t prefix_ = 0;
  size_t read_ = 0;
  std::string prefix_text_;  // Decode(ids_[prefix_, read_))
  bool last_visible_is_byte_ = false;
};

}  // namespace lantern::tokenizer
