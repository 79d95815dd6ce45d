// Python str semantics on UTF-8 strings: code point indexing, whitespace, case mapping and the
// str methods that chat templates call.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/utf8.h"

namespace lantern::jinja {

using ::lantern::AppendUtf8;  // the one UTF-8 encoder (base/utf8.h)

// Code points of `s`; each invalid byte decodes as U+FFFD.
std::u32string DecodeUtf8(std::string_view s);
std::string EncodeUtf8(std::u32string_view s);
// Number of code points (Python len()).
size_t CodePointLength(std::string_view s);
bool IsAscii(std::string_view s);

// str.isspace() for one code point.
bool IsPythonSpace(char32_t cp);

// str.strip/lstrip/rstrip: `chars` == nullptr strips whitespace, else any of those code points.
enum class StripSide { kLeft, kRight, kBoth };
std::string PythonStrip(std::string_view s, const std::string* chars, StripSide side);

std::string PythonUpper(std::string_view s);
std::string PythonLower(std::string_view s);
// Jinja's `capitalize` filter and str.capitalize(): first upper, the rest lower.
std::string PythonCapitalize(std::string_view s);
// str.title(): upper after any non-letter, lower elsewhere.
std::string PythonTitle(std::string_view s);

// str.split(sep, maxsplit); `sep` == nullptr splits on whitespace runs. Throws jinja::Error
// for an empty separator.
std::vector<std::string> PythonSplit(std::string_view s, const std::string* sep, long maxsplit);
// str.replace(old, new, count); count < 0 replaces all.
std::string PythonReplace(std::string_view s, std::string_view from, std::string_view to,
                          long count);

// HTML escaping as Jinja's `escape` filter does it.
std::string HtmlEscape(std::string_view s);

}  // namespace lantern::jinja
