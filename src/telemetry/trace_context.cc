#include "telemetry/trace_context.h"

#include "telemetry/env.h"

namespace lantern::telemetry {
namespace {

constexpr size_t kTraceParentLength = 55;  // 2 + 1 + 32 + 1 + 16 + 1 + 2
constexpr size_t kMaxTraceStateMembers = 32;

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }
bool IsLcAlpha(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsKeyChar(char c) {
  return IsLcAlpha(c) || IsDigit(c) || c == '_' || c == '-' || c == '*' || c == '/';
}

// key chars after the first: the first must satisfy `first_ok`; max `max_len` in total.
bool IsKeyPart(std::string_view s, bool allow_digit_first, size_t max_len) {
  if (s.empty() || s.size() > max_len) return false;
  if (!(IsLcAlpha(s[0]) || (allow_digit_first && IsDigit(s[0])))) return false;
  for (char c : s.substr(1))
    if (!IsKeyChar(c)) return false;
  return true;
}

}  // namespace

std::optional<SpanContext> ParseTraceParent(std::string_view header) {
  header = TrimWhitespace(header);
  if (header.size() < kTraceParentLength) return std::nullopt;
  if (!IsLowerHex(header[0]) || !IsLowerHex(header[1])) return std::nullopt;
  std::string_view version = header.substr(0, 2);
  if (version == "ff") return std::nullopt;
  if (version == "00" && header.size() != kTraceParentLength) return std::nullopt;
  if (header.size() > kTraceParentLength && header[kTraceParentLength] != '-') {
    return std::nullopt;
  }
  if (header[2] != '-' || header[35] != '-' || header[52] != '-') return std::nullopt;
  SpanContext context;
  if (!ParseHex(header.substr(3, 32), &context.trace_id)) return std::nullopt;
  if (!ParseHex(header.substr(36, 16), &context.span_id)) return std::nullopt;
  if (!IsLowerHex(header[53]) || !IsLowerHex(header[54])) return std::nullopt;
  if (!context.IsValid()) return std::nullopt;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  uint8_t flags = static_cast<uint8_t>(nibble(header[53]) << 4 | nibble(header[54]));
  // Only the sampled flag is defined for version 00; unknown flags are not propagated.
  context.trace_flags = flags & kTraceFlagSampled;
  context.is_remote = true;
  return context;
}

std::string FormatTraceParent(const SpanContext& context) {
  std::string out = "00-";
  out += ToHex(context.trace_id);
  out += '-';
  out += ToHex(context.span_id);
  out += context.IsSampled() ? "-01" : "-00";
  return out;
}

bool IsValidTraceStateKey(std::string_view key) {
  size_t at = key.find('@');
  if (at == std::string_view::npos) return IsKeyPart(key, /*allow_digit_first=*/false, 256);
  // tenant@system: tenant up to 241 chars and may start with a digit; system up to 14.
  return IsKeyPart(key.substr(0, at), /*allow_digit_first=*/true, 241) &&
         IsKeyPart(key.substr(at + 1), /*allow_digit_first=*/false, 14);
}

bool IsValidTraceStateValue(std::string_view value) {
  // value = 0*255(chr) nblk-chr; chr = %x20 / nblk-chr; nblk-chr = %x21-2B / %x2D-3C /
  // %x3E-7E (printable ASCII without ',' and '=').
  if (value.empty() || value.size() > 256 || value.back() == ' ') return false;
  for (char c : value) {
    if (c < 0x20 || c > 0x7e || c == ',' || c == '=') return false;
  }
  return true;
}

std::optional<TraceStateMembers> ParseTraceState(std::string_view header) {
  TraceStateMembers members;
  while (true) {
    size_t comma = header.find(',');
    std::string_view member = TrimWhitespace(header.substr(0, comma));
    if (!member.empty()) {
      size_t eq = member.find('=');
      if (eq == std::string_view::npos) return std::nullopt;
      std::string_view key = member.substr(0, eq);
      std::string_view value = member.substr(eq + 1);
      if (!IsValidTraceStateKey(key) || !IsValidTraceStateValue(value)) return std::nullopt;
      for (const auto& [existing, unused] : members) {
        if (existing == key) return std::nullopt;
      }
      if (members.size() == kMaxTraceStateMembers) return std::nullopt;
      members.emplace_back(std::string(key), std::string(value));
    }
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return members;
}

std::string FormatTraceState(const TraceStateMembers& members) {
  std::string out;
  for (const auto& [key, value] : members) {
    if (!out.empty()) out += ',';
    out += key;
    out += '=';
    out += value;
  }
  return out;
}

std::string NormalizeTraceState(std::string_view header) {
  std::optional<TraceStateMembers> members = ParseTraceState(header);
  return members ? FormatTraceState(*members) : std::string();
}

}  // namespace lantern::telemetry
