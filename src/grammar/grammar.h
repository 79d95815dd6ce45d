// Guided decoding: a grammar (JSON Schema, any JSON, a regular expression, a choice among
// strings, or a GBNF context-free grammar) compiled against a model's vocabulary, and a
// per-sequence Matcher that says which tokens may come next and advances on the sampled
// one.
//
//   auto vocab = grammar::Vocabulary::FromTokenizer(tokenizer);          // once, at start-up
//   LANTERN_ASSIGN_OR_RETURN(auto g, grammar::CompileJsonSchema(schema, vocab));  // cached
//   grammar::Matcher m(g);                                               // per sequence
//   m.FillMask(bits);  // bit t of bits[t / 32]: token t allowed
//   m.Accept(token);
//   if (m.IsTerminated()) ...  // nothing may follow: the output is complete
//
// Everything works on bytes: a token is its bytes, a grammar matches UTF-8 text byte by
// byte. Compiled grammars are immutable and shared (an LRU cache keyed by the source);
// a Matcher belongs to one sequence and one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/status.h"

namespace lantern::tokenizer {
class Tokenizer;
}

namespace lantern::grammar {

// Every token's bytes. Special tokens (and tokens with no bytes) are never allowed by a
// grammar; the engine decides about EOS.
class Vocabulary {
 public:
  // token_bytes[i]: the bytes token i stands for; special[i] (when given): a control token.
  static std::shared_ptr<const Vocabulary> Create(std::vector<std::string> token_bytes,
                                                  std::vector<bool> special = {});
  // Byte-level (GPT-2, Llama 3, Qwen) and Metaspace/byte-fallback (Llama 2, Mistral)
  // vocabularies.
  static std::shared_ptr<const Vocabulary> FromTokenizer(const tokenizer::Tokenizer& tokenizer);

  ~Vocabulary();
  int size() const;
  const std::string& token(int32_t id) const;
  bool special(int32_t id) const;

  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  Vocabulary();
  std::unique_ptr<Impl> impl_;
};

// What a request asked for (also the `lantern.grammar.kind` span attribute).
enum class GrammarKind { kJsonSchema, kJsonObject, kRegex, kChoice, kGrammar };
const char* GrammarKindName(GrammarKind kind);  // "json_schema", "json_object", ...

// A grammar compiled for one vocabulary: immutable, shared by every sequence that uses it.
class CompiledGrammar;
using GrammarHandle = std::shared_ptr<const CompiledGrammar>;

GrammarKind KindOf(const CompiledGrammar& grammar);

// Compilers. Errors are InvalidArgument and name what is wrong (the schema path and
// keyword, the regex position); a feature we do not support names its keyword.
// An nlohmann::json has its keys sorted: pass an ordered_json to have object properties
// written in the order the schema lists them (as vLLM and OpenAI do).
Result<GrammarHandle> CompileJsonSchema(const nlohmann::ordered_json& schema,
                                        std::shared_ptr<const Vocabulary> vocab);
Result<GrammarHandle> CompileJsonSchema(const nlohmann::json& schema,
                                        std::shared_ptr<const Vocabulary> vocab);
// Any JSON value whose top level is an object (OpenAI's json_object).
Result<GrammarHandle> CompileJsonObject(std::shared_ptr<const Vocabulary> vocab);
Result<GrammarHandle> CompileRegex(std::string_view pattern,
                                   std::shared_ptr<const Vocabulary> vocab);
Result<GrammarHandle> CompileChoice(const std::vector<std::string>& choices,
                                    std::shared_ptr<const Vocabulary> vocab);
// llama.cpp's GBNF; the start rule is `root`.
Result<GrammarHandle> CompileGbnf(std::string_view gbnf, std::shared_ptr<const Vocabulary> vocab);

// The GBNF text of a JSON Schema, every rule name prefixed by `rule_prefix` and the start
// rule called `<rule_prefix>root`: for composing a schema into a larger grammar (e.g. a
// tool call between tags) passed to CompileGbnf.
Result<std::string> JsonSchemaToGbnf(const nlohmann::ordered_json& schema,
                                     std::string_view rule_prefix = "");
Result<std::string> JsonSchemaToGbnf(const nlohmann::json& schema,
                                     std::string_view rule_prefix = "");

// The per-sequence state: the set of positions the grammar can be in after the tokens
// accepted so far.
class Matcher {
 public:
  explicit Matcher(GrammarHandle grammar);
  ~Matcher();
  Matcher(const Matcher& other);  // the same state, advancing on its own from here
  Matcher& operator=(const Matcher& other);
  Matcher(Matcher&&) noexcept;
  Matcher& operator=(Matcher&&) noexcept;

  // Sets bit t (bits[t / 32] >> (t % 32)) for each token t that keeps the output a valid
  // prefix; clears the others. `bits` has (vocab_size + 31) / 32 words, for the model's
  // vocabulary size (tokens past the grammar's vocabulary are cleared).
  void FillMask(std::span<uint32_t> bits);
  // Advances over `token`. False (state unchanged) when the grammar does not allow it.
  bool Accept(int32_t token);
  // The output so far is a complete match (EOS may be sampled here).
  bool CanEnd() const;
  // Complete, and no byte may follow: the sequence should stop.
  bool IsTerminated() const;
  const CompiledGrammar& grammar() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace lantern::grammar
