// GPT-2's reversible mapping between bytes and printable code points: printable Latin-1
// bytes map to themselves, the others to U+0100 and up.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace lantern::tokenizer {

// UTF-8 of the code point that stands for each byte.
const std::array<std::string, 256>& ByteLevelChars();
// Code point for each byte.
char32_t ByteToChar(uint8_t byte);
// The byte a code point stands for, or -1 when it is not in the alphabet.
int CharToByte(char32_t cp);

// Appends the byte-level form of `bytes` to `out`.
void AppendByteLevel(std::string_view bytes, std::string& out);

}  // namespace lantern::tokenizer
