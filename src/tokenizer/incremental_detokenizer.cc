#include "tokenizer/incremental_detokenizer.h"

#include <optional>
#include <span>

namespace lantern::tokenizer {
namespace {

constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";

// "<0xXX>": byte-fallback decoding validates a whole run of these at once, so a run is
// only final when a token of another kind follows it.
bool IsByteToken(const std::optional<std::string>& token) {
  return token && token->size() == 6 && token->starts_with("<0x") && token->back() == '>';
}

}  // namespace

IncrementalDetokenizer::IncrementalDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens)
    : tokenizer_(tokenizer), skip_special_tokens_(skip_special_tokens) {}

std::string IncrementalDetokenizer::Add(int32_t id) {
  ids_.push_back(id);
  // A skipped special token is invisible to the decoder: it does not end a byte run.
  if (!(skip_special_tokens_ && tokenizer_.IsSpecial(id))) {
    last_visible_is_byte_ = IsByteToken(tokenizer_.IdToToken(id));
  }
  if (last_visible_is_byte_) return "";
  const std::span<const int32_t> window(ids_.data() + prefix_, ids_.size() - prefix_);
  std::string text = tokenizer_.Decode(window, skip_special_tokens_);
  // Wait while the tail may be an unfinished character, or while the new token changed
  // how the context decodes (then the difference is not yet an append).
  if (text.size() <= prefix_text_.size() || text.ends_with(kReplacementChar) ||
      !text.starts_with(prefix_text_)) {
    return "";
  }
  std::string delta = text.substr(prefix_text_.size());
  // The emitted tokens become the new context, unless they decode to nothing on their
  // own (a skipped special token, a lone "▁" that leading-space stripping removes):
  // then the older context stays, so the next window still starts with real text.
  std::string next_prefix_text = tokenizer_.Decode(
      std::span<const int32_t>(ids_.data() + read_, ids_.size() - read_), skip_special_tokens_);
  if (!next_prefix_text.empty()) {
    prefix_ = read_;
    prefix_text_ = std::move(next_prefix_text);
  } else {
    prefix_text_ = std::move(text);
  }
  read_ = ids_.size();
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
