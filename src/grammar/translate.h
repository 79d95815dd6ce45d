// Regular expressions and JSON Schemas written as GBNF. Internal to the grammar module.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "grammar/utf8_ranges.h"

namespace lantern::grammar {

// A GBNF expression matching exactly the strings `pattern` matches in full. The subset:
// literals and escapes, classes ([...], \d \w \s and negations, `.` = any character but
// newline), groups ((...), (?:...), (?<name>...)), `|`, `*` `+` `?` `{m}` `{m,}` `{m,n}`
// (lazy forms read as greedy), `^` at the start and `$` at the end. Backreferences and
// lookaround are errors that name them. `json_string`: the text is the inside of a JSON
// string, so characters JSON must escape are written escaped (literals) or left out
// (classes).
Result<std::string> RegexToGbnf(std::string_view pattern, bool json_string = false);

// A GBNF character class holding exactly `ranges`.
std::string GbnfClass(const std::vector<CodePointRange>& ranges);

}  // namespace lantern::grammar
