#include "tokenizer/byte_level.h"

#include "tokenizer/unicode.h"

namespace lantern::tokenizer {
namespace {

struct Tables {
  std::array<char32_t, 256> byte_to_char;
  std::array<std::string, 256> utf8;
  std::array<int16_t, 512> char_to_byte;  // every mapped code point is below U+0200
};

const Tables& GetTables() {
  static const Tables* tables = [] {
    auto* t = new Tables();
    t->char_to_byte.fill(-1);
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      const char32_t cp = printable ? static_cast<char32_t>(b) : next++;
      t->byte_to_char[b] = cp;
      AppendUtf8(cp, t->utf8[b]);
      t->char_to_byte[cp] = static_cast<int16_t>(b);
    }
    return t;
  }();
  return *tables;
}

}  // namespace

const std::array<std::string, 256>& ByteLevelChars() { return GetTables().utf8; }

char32_t ByteToChar(uint8_t byte) { return GetTables().byte_to_char[byte]; }

int CharToByte(char32_t cp) { return cp < 512 ? GetTables().char_to_byte[cp] : -1; }

void AppendByteLevel(std::string_view bytes, std::string& out) {
  const auto& chars = ByteLevelChars();
  for (char c : bytes) out.append(chars[static_cast<unsigned char>(c)]);
}

}  // namespace lantern::tokenizer
