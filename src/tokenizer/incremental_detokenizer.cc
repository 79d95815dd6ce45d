#include "tokenizer/incremental_detokenizer.h"

#include <span>

namespace lantern::tokenizer {
namespace {

constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";

}  // namespace

IncrementalDetokenizer::IncrementalDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens)
    : tokenizer_(tokenizer), skip_special_tokens_(skip_special_tokens) {}

std::string IncrementalDetokenizer::Add(int32_t id) {
  ids_.push_back(id);
  const std::span<const int32_t> window(ids_.data() + prefix_, ids_.size() - prefix_);
  std::string text = tokenizer_.Decode(window, skip_special_tokens_);
  // Wait while the tail may be an unfinished character, or while the new token changed
  // how the context decodes (then the difference is not yet an append).
  if (text.size() <= prefix_text_.size() || text.ends_with(kReplacementChar) ||
      !text.starts_with(prefix_text_)) {
    return "";
  }
  std::string delta = text.substr(prefix_text_.size());
  prefix_ = read_;
  read_ = ids_.size();
  prefix_text_ = tokenizer_.Decode(std::span<const int32_t>(ids_.data() + prefix_, read_ - prefix_),
                                   skip_special_tokens_);
  return delta;
}

std::string IncrementalDetokenizer::Flush() {
  const std::span<const int32_t> window(ids_.data() + prefix_, ids_.size() - prefix_);
  std::string text = tokenizer_.Decode(window, skip_special_tokens_);
  std::string delta = text.starts_with(prefix_text_) ? text.substr(prefix_text_.size()) : text;
  prefix_ = read_ = ids_.size();
  prefix_text_.clear();
  return delta;
}

}  // namespace lantern::tokenizer
