// Text <-> token ids for a Hugging Face model directory.
//
//   LANTERN_ASSIGN_OR_RETURN(auto tok, tokenizer::Tokenizer::Load(model_dir));
//   std::vector<int32_t> ids = tok->Encode("Hello", /*add_special_tokens=*/true);
//   std::string text = tok->Decode(ids, /*skip_special_tokens=*/true);
//
// Encodings equal those of Hugging Face's tokenizers library for the same files. A
// Tokenizer is immutable after Load: Encode and Decode may be called concurrently.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace lantern::tokenizer {

struct ChatTemplate {
  std::string name;  // "default" for a template given as a plain string
  std::string source;
  // The file it came from (tokenizer_config.json or chat_template.jinja, with its directory),
  // for errors; empty for a tokenizer built from text.
  std::string file;
};

class Tokenizer {
 public:
  // Loads `model_dir`/tokenizer.json, or else the vocab.json + merges.txt layout of
  // GPT-2 and OPT, plus tokenizer_config.json, special_tokens_map.json,
  // generation_config.json and chat_template.jinja where present. Unsupported
  // components are an error that names them.
  static Result<std::unique_ptr<Tokenizer>> Load(const std::filesystem::path& model_dir);
  // Builds a tokenizer from the text of a tokenizer.json alone.
  static Result<std::unique_ptr<Tokenizer>> FromJson(std::string_view tokenizer_json);

  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  // Token ids of `text`. Added and special tokens written in the text are recognised;
  // `add_special_tokens` adds what the post-processor adds (e.g. BOS). Invalid UTF-8 is
  // first replaced by U+FFFD.
  std::vector<int32_t> Encode(std::string_view text, bool add_special_tokens) const;
  // Text of `ids`; unknown ids are ignored. Incomplete UTF-8 decodes as U+FFFD.
  std::string Decode(std::span<const int32_t> ids, bool skip_special_tokens) const;

  std::optional<int32_t> TokenToId(std::string_view token) const;
  std::optional<std::string> IdToToken(int32_t id) const;
  bool IsSpecial(int32_t id) const;
  // One past the largest token id (model vocabulary and added tokens).
  int32_t vocab_size() const;

  std::optional<int32_t> bos_id() const;
  // The tokenizer's EOS first, then further ids from generation_config.json.
  const std::vector<int32_t>& eos_ids() const;
  std::optional<int32_t> pad_id() const;
  const std::string& bos_token() const;  // empty when there is none
  const std::string& eos_token() const;
  // Whether encoding with special tokens starts with BOS (tokenizer_config.json's
  // add_bos_token, else what the post-processor does).
  bool add_bos_token() const;

  const std::vector<ChatTemplate>& chat_templates() const;
  // The template called `name`, or nullptr.
  const std::string* chat_template(std::string_view name = "default") const;

  struct Impl;

 private:
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lantern::tokenizer
