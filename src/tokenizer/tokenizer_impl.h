// The parts of a Tokenizer, shared by the loaders (tokenizer_json.cc, model_dir.cc) and
// the encode/decode pipeline (tokenizer.cc).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/added_vocabulary.h"
#include "tokenizer/bpe.h"
#include "tokenizer/decoder.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/post_processor.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/tokenizer.h"

namespace lantern::tokenizer {

struct Tokenizer::Impl {
  std::unique_ptr<Normalizer> normalizer;       // may be null
  std::unique_ptr<PreTokenizer> pre_tokenizer;  // may be null
  std::unique_ptr<Bpe> model;
  std::unique_ptr<PostProcessor> post_processor;  // may be null
  std::unique_ptr<Decoder> decoder;               // null: tokens joined by spaces
  std::unique_ptr<AddedVocabulary> added;
  std::unordered_map<int32_t, const AddedToken*> added_by_id;
  std::unordered_map<std::string, int32_t> added_by_content;

  // From tokenizer_config.json and generation_config.json.
  std::string bos_token, eos_token;
  std::optional<int32_t> bos_id, pad_id;
  std::vector<int32_t> eos_ids;
  std::optional<bool> add_bos_token;
  std::vector<ChatTemplate> chat_templates;

  // Indexes the added tokens; call once they are final.
  void IndexAddedTokens(std::vector<AddedToken> tokens);
};

// Fills the pipeline of `impl` from the parsed tokenizer.json. Errors do not name the file:
// the caller, who knows its path, does.
Status ParseTokenizerJson(const nlohmann::json& root, Tokenizer::Impl& impl);
// A vocabulary object {token: id} (tokenizer.json's model.vocab, or vocab.json) whose ids
// are integers, distinct and below TokenIdLimit(entries, `added_tokens`); checked before
// anything is allocated for them.
Result<Vocab> ParseVocab(const nlohmann::json& vocab_json, size_t added_tokens);
// Parses one entry of "added_tokens", whose id must be below `id_limit` (or of
// tokenizer_config.json's "added_tokens_decoder", whose id is given separately).
Result<AddedToken> ParseAddedToken(const nlohmann::json& entry, std::optional<int32_t> id,
                                   int64_t id_limit = 0);

}  // namespace lantern::tokenizer
