#include "model/loader_util.h"

#include <set>
#include <vector>

namespace lantern::model::internal {

bool IsValidUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;  // continuation byte first, or 0xC0/0xC1/0xF5+ (never valid)
    }
    if (n - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;  // overlong
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

std::string Quote(std::string_view text, size_t max_len) {
  static const char kHex[] = "0123456789abcdef";
  std::string out = "'";
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == max_len) {
      out += "...";
      break;
    }
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F && c != '\\' && c != '\'') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  out += "'";
  return out;
}

namespace {

// Thrown from the parser callback; caught in ParseJsonStrict (never leaves this file).
struct StrictJsonError {
  std::string message;
};

}  // namespace

Result<nlohmann::json> ParseJsonStrict(std::string_view text, const std::string& source,
                                       int max_depth) {
  // One set of keys per open object; arrays push an empty marker so depths line up.
  std::vector<std::set<std::string>> open_objects;
  auto callback = [&](int depth, nlohmann::json::parse_event_t event,
                      nlohmann::json& parsed) -> bool {
    using Event = nlohmann::json::parse_event_t;
    switch (event) {
      case Event::object_start:
      case Event::array_start:
        if (depth >= max_depth) {
          throw StrictJsonError{"JSON nested deeper than " + std::to_string(max_depth) + " levels"};
        }
        open_objects.emplace_back();
        break;
      case Event::object_end:
      case Event::array_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case Event::key:
        if (!open_objects.empty() &&
            !open_objects.back().insert(parsed.get<std::string>()).second) {
          throw StrictJsonError{"duplicate key " + Quote(parsed.get<std::string>())};
        }
        break;
      case Event::value:
        break;
    }
    return true;
  };
  try {
    return nlohmann::json::parse(text.begin(), text.end(), callback);
  } catch (const StrictJsonError& e) {
    return InvalidArgument(source + ": " + e.message);
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(source + ": invalid JSON: " + e.what());
  }
}

}  // namespace lantern::model::internal
