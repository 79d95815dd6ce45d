// Reading tokenizer.json.
#include <algorithm>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "tokenizer/json_util.h"
#include "tokenizer/tokenizer_impl.h"

namespace lantern::tokenizer {
namespace {

using json = nlohmann::json;

Result<std::optional<std::string>> OptionalString(const json& object, const char* key,
                                                  const std::string& where) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return InvalidArgument(where + ": '" + key + "' must be a string");
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::unique_ptr<Bpe>> ParseBpe(const json& model, size_t added_tokens) {
  const std::string where = "model";
  if (!model.is_object()) return InvalidArgument(where + ": expected an object");
  std::string type = "BPE";
  if (auto it = model.find("type"); it != model.end() && !it->is_null()) {
    if (!it->is_string()) return InvalidArgument(where + ": 'type' must be a string");
    type = it->get<std::string>();
  }
  if (type != "BPE") {
    return Unimplemented("model type " + Quote(type) + " is not supported (only BPE)");
  }
  if (auto it = model.find("dropout");
      it != model.end() && it->is_number() && it->get<double>() > 0.0) {
    return Unimplemented(where + ": BPE dropout is not supported");
  }
  auto vocab_it = model.find("vocab");
  if (vocab_it == model.end()) {
    return InvalidArgument(where + ": 'vocab' must be an object of token -> id");
  }
  Result<Vocab> parsed = ParseVocab(*vocab_it, added_tokens);
  if (!parsed.ok()) return InvalidArgument("model.vocab: " + parsed.status().message());
  Vocab vocab = std::move(parsed).value();
  auto merges_it = model.find("merges");
  if (merges_it == model.end() || !merges_it->is_array()) {
    return InvalidArgument(where + ": 'merges' must be a list");
  }
  std::vector<std::pair<std::string, std::string>> merges;
  merges.reserve(merges_it->size());
  for (const json& merge : *merges_it) {
    if (merge.is_string()) {
      const std::string& text = merge.get_ref<const std::string&>();
      const size_t space = text.find(' ');
      if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos) {
        return InvalidArgument(where + ": merge " + std::to_string(merges.size()) + " " +
                               Quote(text) + " must be two tokens separated by one space");
      }
      merges.emplace_back(text.substr(0, space), text.substr(space + 1));
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() &&
               merge[1].is_string()) {
      merges.emplace_back(merge[0].get<std::string>(), merge[1].get<std::string>());
    } else {
      return InvalidArgument(where + ": merge " + std::to_string(merges.size()) +
                             " must be \"a b\" or [\"a\", \"b\"]");
    }
  }
  BpeOptions options;
  LANTERN_ASSIGN_OR_RETURN(options.unk_token, OptionalString(model, "unk_token", where));
  LANTERN_ASSIGN_OR_RETURN(auto prefix, OptionalString(model, "continuing_subword_prefix", where));
  LANTERN_ASSIGN_OR_RETURN(auto suffix, OptionalString(model, "end_of_word_suffix", where));
  options.continuing_subword_prefix = prefix.value_or("");
  options.end_of_word_suffix = suffix.value_or("");
  LANTERN_ASSIGN_OR_RETURN(options.fuse_unk, GetBool(model, "fuse_unk", false, where));
  LANTERN_ASSIGN_OR_RETURN(options.byte_fallback, GetBool(model, "byte_fallback", false, where));
  LANTERN_ASSIGN_OR_RETURN(options.ignore_merges, GetBool(model, "ignore_merges", false, where));
  return Bpe::Create(std::move(vocab), merges, std::move(options));
}

// The ids a post-processor adds go to the model unchecked: each must be a token.
Status CheckPostProcessorIds(const Tokenizer::Impl& impl) {
  if (!impl.post_processor) return Status::Ok();
  int64_t bound = static_cast<int64_t>(impl.model->vocab().id_bound());
  for (const AddedToken& token : impl.added->tokens()) {
    bound = std::max<int64_t>(bound, token.id + 1);
  }
  std::vector<int32_t> ids;
  impl.post_processor->Process(ids);
  for (int32_t id : ids) {
    if (id < 0 || id >= bound) {
      return InvalidArgument("post_processor: it adds token id " + std::to_string(id) +
                             ", outside the vocabulary [0, " + std::to_string(bound) + ")");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<Vocab> ParseVocab(const json& vocab_json, size_t added_tokens) {
  if (!vocab_json.is_object()) {
    return InvalidArgument("expected an object of token -> id, not " + Describe(vocab_json));
  }
  const int64_t limit = TokenIdLimit(vocab_json.size(), added_tokens);
  Vocab vocab;
  for (auto it = vocab_json.begin(); it != vocab_json.end(); ++it) {
    LANTERN_ASSIGN_OR_RETURN(int32_t id, GetTokenId(it.value(), it.key(), limit));
    // Hugging Face writes a vocabulary from its id -> token map, so a file where two
    // tokens share an id was not written by it, and one of them could never be decoded.
    if (const std::string* other = vocab.Token(id)) {
      return InvalidArgument(Quote(*other) + " and " + Quote(it.key()) + " both have id " +
                             std::to_string(id));
    }
    vocab.Add(it.key(), id);
  }
  return vocab;
}

Result<AddedToken> ParseAddedToken(const json& entry, std::optional<int32_t> id, int64_t id_limit) {
  const std::string where = "added token";
  AddedToken token;
  LANTERN_ASSIGN_OR_RETURN(token.content, GetString(entry, "content", where));
  if (id) {
    token.id = *id;
  } else {
    auto it = entry.find("id");
    if (it == entry.end()) return InvalidArgument(where + " " + Quote(token.content) + ": no 'id'");
    LANTERN_ASSIGN_OR_RETURN(token.id, GetTokenId(*it, token.content, id_limit));
  }
  const std::string named = where + " " + Quote(token.content);
  LANTERN_ASSIGN_OR_RETURN(token.special, GetBool(entry, "special", false, named));
  LANTERN_ASSIGN_OR_RETURN(token.lstrip, GetBool(entry, "lstrip", false, named));
  LANTERN_ASSIGN_OR_RETURN(token.rstrip, GetBool(entry, "rstrip", false, named));
  // tokenizers defaults "normalized" to the opposite of "special".
  LANTERN_ASSIGN_OR_RETURN(token.normalized, GetBool(entry, "normalized", !token.special, named));
  LANTERN_ASSIGN_OR_RETURN(token.single_word, GetBool(entry, "single_word", false, named));
  return token;
}

Status ParseTokenizerJson(const json& root, Tokenizer::Impl& impl) {
  if (!root.is_object()) return InvalidArgument("expected a JSON object");
  const json* added_json = nullptr;
  if (auto it = root.find("added_tokens"); it != root.end() && !it->is_null()) {
    if (!it->is_array()) return InvalidArgument("'added_tokens' must be a list");
    added_json = &*it;
  }
  const size_t added_count = added_json ? added_json->size() : 0;
  // "truncation" and "padding" are ignored: limiting lengths is the server's job.
  if (auto it = root.find("normalizer"); it != root.end() && !it->is_null()) {
    LANTERN_ASSIGN_OR_RETURN(impl.normalizer, ParseNormalizer(*it));
  }
  if (auto it = root.find("pre_tokenizer"); it != root.end() && !it->is_null()) {
    LANTERN_ASSIGN_OR_RETURN(impl.pre_tokenizer, ParsePreTokenizer(*it));
  }
  auto model = root.find("model");
  if (model == root.end()) return InvalidArgument("missing 'model'");
  LANTERN_ASSIGN_OR_RETURN(impl.model, ParseBpe(*model, added_count));
  if (auto it = root.find("post_processor"); it != root.end() && !it->is_null()) {
    LANTERN_ASSIGN_OR_RETURN(impl.post_processor, ParsePostProcessor(*it));
  }
  if (auto it = root.find("decoder"); it != root.end() && !it->is_null()) {
    LANTERN_ASSIGN_OR_RETURN(impl.decoder, ParseDecoder(*it));
  }
  const int64_t id_limit = TokenIdLimit(impl.model->vocab().size(), added_count);
  std::vector<AddedToken> added;
  std::unordered_map<int32_t, size_t> index_of_id;
  for (size_t i = 0; i < added_count; ++i) {
    Result<AddedToken> parsed = ParseAddedToken((*added_json)[i], std::nullopt, id_limit);
    if (!parsed.ok()) {
      return InvalidArgument("added_tokens[" + std::to_string(i) +
                             "]: " + parsed.status().message());
    }
    AddedToken token = std::move(parsed).value();
    // tokenizers gives an added token that the model already has the model's id.
    if (auto model_id = impl.model->vocab().Find(token.content)) token.id = *model_id;
    // A repeated token is harmless; two tokens on one id would decode as only one of them.
    auto [it, inserted] = index_of_id.emplace(token.id, added.size());
    if (!inserted && added[it->second].content != token.content) {
      return InvalidArgument("added_tokens: " + Quote(added[it->second].content) + " and " +
                             Quote(token.content) + " both have id " + std::to_string(token.id));
    }
    added.push_back(std::move(token));
  }
  impl.IndexAddedTokens(std::move(added));
  return CheckPostProcessorIds(impl);
}

}  // namespace lantern::tokenizer
