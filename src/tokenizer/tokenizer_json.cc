// Reading tokenizer.json.
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

Result<std::unique_ptr<Bpe>> ParseBpe(const json& model) {
  const std::string where = "tokenizer.json model";
  if (!model.is_object()) return InvalidArgument(where + ": expected an object");
  const std::string type = model.value("type", std::string("BPE"));
  if (type != "BPE") {
    return Unimplemented("model type '" + type + "' is not supported (only BPE)");
  }
  if (auto it = model.find("dropout");
      it != model.end() && it->is_number() && it->get<double>() > 0.0) {
    return Unimplemented(where + ": BPE dropout is not supported");
  }
  auto vocab_it = model.find("vocab");
  if (vocab_it == model.end() || !vocab_it->is_object()) {
    return InvalidArgument(where + ": 'vocab' must be an object of token -> id");
  }
  Vocab vocab;
  for (auto it = vocab_it->begin(); it != vocab_it->end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 ||
        it.value().get<int64_t>() > INT32_MAX) {
      return InvalidArgument(where + ": id of token '" + it.key() +
                             "' must be a non-negative integer");
    }
    vocab.Add(it.key(), it.value().get<int32_t>());
  }
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
        return InvalidArgument(where + ": merge " + std::to_string(merges.size()) + " '" + text +
                               "' must be two tokens separated by one space");
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

}  // namespace

Result<AddedToken> ParseAddedToken(const json& entry, std::optional<int32_t> id) {
  const std::string where = "added token";
  AddedToken token;
  LANTERN_ASSIGN_OR_RETURN(token.content, GetString(entry, "content", where));
  if (id) {
    token.id = *id;
  } else {
    auto it = entry.find("id");
    if (it == entry.end() || !it->is_number_integer() || it->get<int64_t>() < 0 ||
        it->get<int64_t>() > INT32_MAX) {
      return InvalidArgument(where + " '" + token.content +
                             "': 'id' must be a non-negative integer");
    }
    token.id = it->get<int32_t>();
  }
  const std::string named = where + " '" + token.content + "'";
  LANTERN_ASSIGN_OR_RETURN(token.special, GetBool(entry, "special", false, named));
  LANTERN_ASSIGN_OR_RETURN(token.lstrip, GetBool(entry, "lstrip", false, named));
  LANTERN_ASSIGN_OR_RETURN(token.rstrip, GetBool(entry, "rstrip", false, named));
  // tokenizers defaults "normalized" to the opposite of "special".
  LANTERN_ASSIGN_OR_RETURN(token.normalized, GetBool(entry, "normalized", !token.special, named));
  LANTERN_ASSIGN_OR_RETURN(token.single_word, GetBool(entry, "single_word", false, named));
  return token;
}

Status ParseTokenizerJson(const json& root, Tokenizer::Impl& impl) {
  if (!root.is_object()) return InvalidArgument("tokenizer.json: expected a JSON object");
  // "truncation" and "padding" are ignored: limiting lengths is the server's job.
  if (auto it = root.find("normalizer"); it != root.end() && !it->is_null()) {
    LANTERN_ASSIGN_OR_RETURN(impl.normalizer, ParseNormalizer(*it));
  }
  if (auto it = root.find("pre_tokenizer"); it != root.end() && !it->is_null()) {
    LANTERN_ASSIGN_OR_RETURN(impl.pre_tokenizer, ParsePreTokenizer(*it));
  }
  auto model = root.find("model");
  if (model == root.end()) return InvalidArgument("tokenizer.json: missing 'model'");
  LANTERN_ASSIGN_OR_RETURN(impl.model, ParseBpe(*model));
  if (auto it = root.find("post_processor"); it != root.end() && !it->is_null()) {
    LANTERN_ASSIGN_OR_RETURN(impl.post_processor, ParsePostProcessor(*it));
  }
  if (auto it = root.find("decoder"); it != root.end() && !it->is_null()) {
    LANTERN_ASSIGN_OR_RETURN(impl.decoder, ParseDecoder(*it));
  }
  std::vector<AddedToken> added;
  if (auto it = root.find("added_tokens"); it != root.end() && !it->is_null()) {
    if (!it->is_array()) return InvalidArgument("tokenizer.json: 'added_tokens' must be a list");
    for (const json& entry : *it) {
      LANTERN_ASSIGN_OR_RETURN(AddedToken token, ParseAddedToken(entry, std::nullopt));
      // tokenizers gives an added token that the model already has the model's id.
      if (auto model_id = impl.model->vocab().Find(token.content)) token.id = *model_id;
      added.push_back(std::move(token));
    }
  }
  impl.IndexAddedTokens(std::move(added));
  return Status::Ok();
}

}  // namespace lantern::tokenizer
