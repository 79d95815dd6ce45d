#include "telemetry/baggage.h"

#include "base/log.h"
#include "telemetry/env.h"

namespace lantern::telemetry {
namespace {

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

// baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
bool IsBaggageOctet(unsigned char c) {
  return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) ||
         (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string EncodeMember(const BaggageEntry& entry) {
  std::string out = entry.key + "=" + PercentEncodeBaggageValue(entry.value);
  if (!entry.metadata.empty()) out += ";" + entry.metadata;
  return out;
}

}  // namespace

bool IsHttpToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!IsTokenChar(c)) return false;
  return true;
}

std::string PercentEncodeBaggageValue(std::string_view value) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    if (IsBaggageOctet(c) && c != '%') {
      out += ch;
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 0xf];
    }
  }
  return out;
}

std::optional<std::string> PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int hi = HexValue(text[i + 1]);
    int lo = HexValue(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi << 4 | lo);
    i += 2;
  }
  return out;
}

Baggage Baggage::Parse(std::string_view header) {
  Baggage baggage;
  if (header.size() > kMaxBytes) {
    LANTERN_LOG(kWarning, "telemetry")
        << "baggage header of " << header.size() << " bytes exceeds " << kMaxBytes << "; discarded";
    return baggage;
  }
  size_t dropped = 0;
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string_view member = TrimWhitespace(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    if (member.empty()) continue;
    // member = key OWS "=" OWS value *( OWS ";" OWS property )
    size_t semicolon = member.find(';');
    std::string_view pair = TrimWhitespace(member.substr(0, semicolon));
    std::string_view metadata = semicolon == std::string_view::npos
                                    ? std::string_view()
                                    : TrimWhitespace(member.substr(semicolon + 1));
    size_t eq = pair.find('=');
    std::string_view key = TrimWhitespace(pair.substr(0, eq));
    std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : TrimWhitespace(pair.substr(eq + 1));
    bool value_ok = eq != std::string_view::npos;
    for (char c : raw_value) value_ok = value_ok && IsBaggageOctet(static_cast<unsigned char>(c));
    std::optional<std::string> value = value_ok ? PercentDecode(raw_value) : std::nullopt;
    if (!IsHttpToken(key) || !value) {
      ++dropped;
      continue;
    }
    if (baggage.entries_.size() == kMaxMembers && !baggage.Get(key)) {
      ++dropped;
      continue;
    }
    baggage.Set(key, *value, metadata);
  }
  if (dropped > 0) {
    LANTERN_LOG(kWarning, "telemetry")
        << "baggage: dropped " << dropped << " invalid or excess member(s)";
  }
  return baggage;
}

std::string Baggage::ToHeader() const {
  std::string out;
  size_t members = 0;
  for (const BaggageEntry& entry : entries_) {
    if (members == kMaxMembers) break;
    std::string member = EncodeMember(entry);
    if (out.size() + (out.empty() ? 0 : 1) + member.size() > kMaxBytes) continue;
    if (!out.empty()) out += ',';
    out += member;
    ++members;
  }
  return out;
}

bool Baggage::Set(std::string_view key, std::string_view value, std::string_view metadata) {
  if (!IsHttpToken(key)) return false;
  for (BaggageEntry& entry : entries_) {
    if (entry.key == key) {
      entry.value = std::string(value);
      entry.metadata = std::string(metadata);
      return true;
    }
  }
  entries_.push_back({std::string(key), std::string(value), std::string(metadata)});
  return true;
}

std::optional<std::string> Baggage::Get(std::string_view key) const {
  for (const BaggageEntry& entry : entries_)
    if (entry.key == key) return entry.value;
  return std::nullopt;
}

bool Baggage::Remove(std::string_view key) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->key == key) {
      entries_.erase(it);
      return true;
    }
  }
  return false;
}

}  // namespace lantern::telemetry
