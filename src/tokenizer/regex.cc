#include "tokenizer/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "tokenizer/split_patterns.h"
#include "tokenizer/unicode.h"

namespace lantern::tokenizer {
namespace {

// Per-thread JIT stack and match data: PCRE2 objects that must not be shared between
// concurrent matches.
struct ThreadMatchState {
  ThreadMatchState() {
    jit_stack = pcre2_jit_stack_create(32 * 1024, 4 * 1024 * 1024, nullptr);
    context = pcre2_match_context_create(nullptr);
    pcre2_jit_stack_assign(context, nullptr, jit_stack);
    data = pcre2_match_data_create(1, nullptr);
  }
  ~ThreadMatchState() {
    pcre2_match_data_free(data);
    pcre2_match_context_free(context);
    pcre2_jit_stack_free(jit_stack);
  }
  pcre2_jit_stack* jit_stack;
  pcre2_match_context* context;
  pcre2_match_data* data;
};

ThreadMatchState& MatchState() {
  thread_local ThreadMatchState state;
  return state;
}

}  // namespace

std::string EscapeRegex(std::string_view literal) {
  std::string out = "\\Q";
  size_t pos = 0;
  // \Q...\E quotes everything except an embedded \E, which is split out.
  while (true) {
    const size_t e = literal.find("\\E", pos);
    if (e == std::string_view::npos) {
      out.append(literal.substr(pos));
      break;
    }
    out.append(literal.substr(pos, e - pos));
    out.append("\\E\\\\E\\Q");
    pos = e + 2;
  }
  out.append("\\E");
  return out;
}

Result<std::unique_ptr<Regex>> Regex::Compile(const std::string& pattern) {
  std::unique_ptr<Regex> regex(new Regex());
  regex->pattern_ = pattern;
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                    PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &error, &offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof(message));
    return InvalidArgument("cannot compile regex '" + pattern + "' at offset " +
                           std::to_string(offset) + ": " + reinterpret_cast<char*>(message));
  }
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter on failure
  regex->code_ = code;
  if (pattern == kGpt2Pattern) regex->fast_path_ = SplitGpt2;
  if (pattern == kLlama3Pattern) regex->fast_path_ = SplitLlama3;
  if (pattern == kQwen2Pattern) regex->fast_path_ = SplitQwen2;
  return regex;
}

Result<std::unique_ptr<Regex>> Regex::Literal(std::string_view literal) {
  return Compile(EscapeRegex(literal));
}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

void Regex::FindAll(std::string_view text, std::vector<Span>& matches) const {
  if (fast_path_ != nullptr) {
    fast_path_(text, matches);
    return;
  }
  auto* code = static_cast<pcre2_code*>(code_);
  ThreadMatchState& state = MatchState();
  size_t search_from = 0;
  bool have_last = false;
  size_t last_match_end = 0;
  while (search_from <= text.size()) {
    const int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(),
                               search_from, PCRE2_NO_UTF_CHECK, state.data, state.context);
    if (rc < 0) break;  // no match, or a resource limit: the rest is unmatched text
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(state.data);
    const size_t start = ovector[0], end = ovector[1];
    if (start == end && have_last && last_match_end == end) {
      // The onig crate's rule: skip an empty match right after the previous match.
      search_from +=
          search_from < text.size() ? Utf8Length(static_cast<unsigned char>(text[search_from])) : 1;
      continue;
    }
    matches.emplace_back(start, end);
    search_from = end;
    have_last = true;
    last_match_end = end;
  }
}

}  // namespace lantern::tokenizer
