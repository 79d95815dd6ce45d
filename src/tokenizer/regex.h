// Regular expressions for split patterns: PCRE2 (UTF + UCP, JIT-compiled), with
// hand-written matchers for the GPT-2, Llama 3 and Qwen2 pre-tokenizer patterns, which
// are the hot path of byte-level BPE and give exactly the same matches.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace lantern::tokenizer {

using Span = std::pair<size_t, size_t>;  // [begin, end) byte offsets

class Regex {
 public:
  // Compiles `pattern` (Oniguruma/Rust syntax as tokenizer.json writes it). The error
  // names the pattern and PCRE2's message.
  static Result<std::unique_ptr<Regex>> Compile(const std::string& pattern);
  // A regex that matches `literal` exactly.
  static Result<std::unique_ptr<Regex>> Literal(std::string_view literal);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Appends every match in `text` to `matches`, in order, with the iteration rule of
  // the onig crate that tokenizers uses: an empty match right where the previous match
  // ended is skipped. Thread-safe.
  void FindAll(std::string_view text, std::vector<Span>& matches) const;

  const std::string& pattern() const { return pattern_; }
  // True when a hand-written matcher replaces PCRE2 for this pattern.
  bool has_fast_path() const { return fast_path_ != nullptr; }

  // Forces PCRE2 even where a fast path exists (for tests that compare the two).
  void DisableFastPath() { fast_path_ = nullptr; }

 private:
  using FastPath = void (*)(std::string_view, std::vector<Span>&);
  Regex() = default;

  std::string pattern_;
  void* code_ = nullptr;  // pcre2_code_8*
  FastPath fast_path_ = nullptr;
};

// Escapes `literal` for use inside a PCRE2 pattern.
std::string EscapeRegex(std::string_view literal);

}  // namespace lantern::tokenizer
