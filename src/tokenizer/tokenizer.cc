// The encode and decode pipelines.
#include "tokenizer/tokenizer.h"

#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

namespace lantern::tokenizer {

void Tokenizer::Impl::IndexAddedTokens(std::vector<AddedToken> tokens) {
  added = std::make_unique<AddedVocabulary>(std::move(tokens), normalizer.get());
  added_by_id.clear();
  added_by_content.clear();
  for (const AddedToken& token : added->tokens()) {
    added_by_id[token.id] = &token;
    added_by_content.emplace(token.content, token.id);
  }
}

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

Result<std::unique_ptr<Tokenizer>> Tokenizer::FromJson(std::string_view tokenizer_json) {
  nlohmann::json root = nlohmann::json::parse(tokenizer_json, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return InvalidArgument("tokenizer.json: not valid JSON");
  auto impl = std::make_unique<Impl>();
  if (Status status = ParseTokenizerJson(root, *impl); !status.ok()) {
    return Status(status.code(), "tokenizer.json: " + status.message());
  }
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(impl)));
}

namespace {

// Pre-tokenizes and encodes one stretch of normalized text without added tokens.
void EncodePlain(const Tokenizer::Impl& impl, std::string_view text, bool at_origin,
                 std::vector<Piece>& pieces, std::vector<int32_t>& ids) {
  pieces.clear();
  pieces.push_back({std::string(text), at_origin});
  if (impl.pre_tokenizer) impl.pre_tokenizer->PreTokenize(pieces);
  for (const Piece& piece : pieces) impl.model->Encode(piece.text, ids);
}

}  // namespace

std::vector<int32_t> Tokenizer::Encode(std::string_view input, bool add_special_tokens) const {
  const Impl& impl = *impl_;
  std::string repaired;
  std::string_view text = input;
  if (!IsValidUtf8(input)) {
    repaired = Utf8Lossy(input);
    text = repaired;
  }
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  std::vector<TextSegment> raw_segments, normalized_segments;
  std::vector<Piece> pieces;
  impl.added->Split(text, /*normalized=*/false, raw_segments);
  for (const TextSegment& raw : raw_segments) {
    if (raw.token_id >= 0) {
      ids.push_back(raw.token_id);
      continue;
    }
    std::string normalized(text.substr(raw.begin, raw.end - raw.begin));
    // Whether the normalized text still starts at the start of the input, as
    // tokenizers' offsets would say: not when normalizing deleted the first character
    // (StripAccents on a leading mark, Strip on leading spaces).
    bool starts_at_origin = raw.begin == 0;
    if (impl.normalizer) {
      if (starts_at_origin) {
        size_t first_end = 0;
        NextCodePoint(normalized, first_end);
        std::string first = normalized.substr(0, first_end);
        impl.normalizer->Normalize(first);
        starts_at_origin = !first.empty();
      }
      impl.normalizer->Normalize(normalized);
    }
    normalized_segments.clear();
    impl.added->Split(normalized, /*normalized=*/true, normalized_segments);
    for (const TextSegment& segment : normalized_segments) {
      if (segment.token_id >= 0) {
        ids.push_back(segment.token_id);
        continue;
      }
      EncodePlain(impl,
                  std::string_view(normalized).substr(segment.begin, segment.end - segment.begin),
                  starts_at_origin && segment.begin == 0, pieces, ids);
    }
  }
  if (add_special_tokens && impl.post_processor) impl.post_processor->Process(ids);
  return ids;
}

std::string Tokenizer::Decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  const Impl& impl = *impl_;
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    if (auto it = impl.added_by_id.find(id); it != impl.added_by_id.end()) {
      if (!(skip_special_tokens && it->second->special)) tokens.push_back(it->second->content);
      continue;
    }
    if (const std::string* token = impl.model->vocab().Token(id)) tokens.push_back(*token);
  }
  if (!impl.decoder) {
    std::string joined;
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0) joined.push_back(' ');
      joined.append(tokens[i]);
    }
    return joined;
  }
  impl.decoder->DecodeChain(tokens);
  std::string text;
  for (const std::string& token : tokens) text.append(token);
  return text;
}

std::optional<int32_t> Tokenizer::TokenToId(std::string_view token) const {
  if (auto it = impl_->added_by_content.find(std::string(token));
      it != impl_->added_by_content.end()) {
    return it->second;
  }
  return impl_->model->vocab().Find(token);
}

std::optional<std::string> Tokenizer::IdToToken(int32_t id) const {
  if (auto it = impl_->added_by_id.find(id); it != impl_->added_by_id.end()) {
    return it->second->content;
  }
  if (const std::string* token = impl_->model->vocab().Token(id)) return *token;
  return std::nullopt;
}

bool Tokenizer::IsSpecial(int32_t id) const {
  auto it = impl_->added_by_id.find(id);
  return it != impl_->added_by_id.end() && it->second->special;
}

int32_t Tokenizer::vocab_size() const {
  auto bound = static_cast<int32_t>(impl_->model->vocab().id_bound());
  for (const AddedToken& token : impl_->added->tokens()) bound = std::max(bound, token.id + 1);
  return bound;
}

std::optional<int32_t> Tokenizer::bos_id() const { return impl_->bos_id; }
const std::vector<int32_t>& Tokenizer::eos_ids() const { return impl_->eos_ids; }
std::optional<int32_t> Tokenizer::pad_id() const { return impl_->pad_id; }
const std::string& Tokenizer::bos_token() const { return impl_->bos_token; }
const std::string& Tokenizer::eos_token() const { return impl_->eos_token; }

bool Tokenizer::add_bos_token() const {
  if (impl_->add_bos_token) return *impl_->add_bos_token;
  if (!impl_->bos_id || !impl_->post_processor) return false;
  std::vector<int32_t> ids;
  impl_->post_processor->Process(ids);
  return !ids.empty() && ids.front() == *impl_->bos_id;
}

const std::vector<ChatTemplate>& Tokenizer::chat_templates() const { return impl_->chat_templates; }

const std::string* Tokenizer::chat_template(std::string_view name) const {
  for (const ChatTemplate& t : impl_->chat_templates) {
    if (t.name == name) return &t.source;
  }
  return nullptr;
}

}  // namespace lantern::tokenizer
