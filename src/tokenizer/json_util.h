// Small helpers for reading tokenizer.json fields with errors that name the field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace lantern::tokenizer {

// The string field `key` of `object`, or an InvalidArgument error naming `where`.
Result<std::string> GetString(const nlohmann::json& object, const char* key,
                              const std::string& where);
// The boolean field `key`, or `fallback` when it is absent or null.
Result<bool> GetBool(const nlohmann::json& object, const char* key, bool fallback,
                     const std::string& where);
// The "type" of a component, or an error.
Result<std::string> GetType(const nlohmann::json& object, const std::string& where);
// A "pattern" object: {"String": s} becomes an escaped literal, {"Regex": r} stays.
Result<std::string> GetPattern(const nlohmann::json& object, const std::string& where);

// `text` for an error message: quoted, escaped as JSON and cut to 64 bytes, since a token
// from a hostile file may hold line breaks, invalid UTF-8 or a megabyte.
std::string Quote(std::string_view text);
// `value` for an error message, cut like Quote.
std::string Describe(const nlohmann::json& value);
// `value` as an id when it is an integer in [0, INT32_MAX], else nullopt.
std::optional<int32_t> AsTokenId(const nlohmann::json& value);

// One past the largest token id a file listing `entries` tokens and `added` added tokens
// may use. Hugging Face tokenizers numbers a vocabulary 0..N-1 and gives each added token
// that is not in it the next free id, so every file it writes stays below entries + added.
// It loads files with holes, though (a few legacy vocabularies have some, left by repeated
// lines), hence twice that plus 1024. Checking ids against this before storing them keeps
// the id table linear in the size of the file: no id of 10^9 costs gigabytes.
int64_t TokenIdLimit(size_t entries, size_t added);
// The id `value` of `token` when it is an integer in [0, limit), else an error naming both.
Result<int32_t> GetTokenId(const nlohmann::json& value, std::string_view token, int64_t limit);

}  // namespace lantern::tokenizer
