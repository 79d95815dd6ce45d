// W3C Baggage (https://www.w3.org/TR/baggage/): application key/value pairs that travel
// with a request. Values are percent-decoded when parsed and encoded when written.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lantern::telemetry {

struct BaggageEntry {
  std::string key;
  std::string value;     // decoded
  std::string metadata;  // the properties after ';', as received (e.g. "p1;p2=v")
};

class Baggage {
 public:
  static constexpr size_t kMaxMembers = 64;
  static constexpr size_t kMaxBytes = 8192;

  // Parses a baggage header. Invalid members are skipped; members beyond 64 are dropped;
  // a header longer than 8192 bytes is discarded whole. A warning names what was dropped.
  static Baggage Parse(std::string_view header);

  // The header value: members (up to 64 and 8192 bytes; the rest are dropped) with
  // percent-encoded values.
  std::string ToHeader() const;

  // Sets (replacing an existing key). Returns false for a key that is not an RFC 7230
  // token.
  bool Set(std::string_view key, std::string_view value, std::string_view metadata = {});
  std::optional<std::string> Get(std::string_view key) const;
  bool Remove(std::string_view key);

  const std::vector<BaggageEntry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<BaggageEntry> entries_;
};

// RFC 7230 token: the baggage key grammar.
bool IsHttpToken(std::string_view s);
// Percent-encodes everything outside the baggage-octet set (and '%').
std::string PercentEncodeBaggageValue(std::string_view value);
// Decodes %XX escapes; nullopt for a malformed escape.
std::optional<std::string> PercentDecode(std::string_view text);

}  // namespace lantern::telemetry
