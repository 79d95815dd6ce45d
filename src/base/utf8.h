// UTF-8 encoding of one code point, shared by the modules that build text from code points
// (grammar's byte ranges, ...). Callers pass valid code points (<= U+10FFFF).
#pragma once

#include <string>

namespace lantern {

void AppendUtf8(char32_t cp, std::string* out);

}  // namespace lantern
