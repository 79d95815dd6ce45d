#include "telemetry/otlp_grouping.h"

namespace lantern::telemetry {

std::vector<OtlpResourceGroup> GroupByResourceAndScope(std::span<const SpanData* const> spans) {
  std::vector<OtlpResourceGroup> groups;
  // Batches usually hold one resource and a handful of scopes: remember the last group
  // used and fall back to a linear search.
  OtlpScopeGroup* last_scope = nullptr;
  const Resource* last_resource = nullptr;
  const InstrumentationScope* last_scope_key = nullptr;
  for (const SpanData* span : spans) {
    const Resource* resource = span->resource.get();
    const InstrumentationScope* scope = span->scope.get();
    if (last_scope == nullptr || resource != last_resource || scope != last_scope_key) {
      OtlpResourceGroup* group = nullptr;
      for (OtlpResourceGroup& candidate : groups) {
        if (candidate.resource == resource) group = &candidate;
      }
      if (group == nullptr) {
        groups.push_back(OtlpResourceGroup{resource, {}});
        group = &groups.back();
      }
      last_scope = nullptr;
      for (OtlpScopeGroup& candidate : group->scopes) {
        if (candidate.scope == scope) last_scope = &candidate;
      }
      if (last_scope == nullptr) {
        group->scopes.push_back(OtlpScopeGroup{scope, {}});
        last_scope = &group->scopes.back();
      }
      last_resource = resource;
      last_scope_key = scope;
    }
    last_scope->spans.push_back(span);
  }
  return groups;
}

namespace {

// Length of the valid UTF-8 sequence starting at text[i], or 0 when it is invalid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(i);
  if (lead < 0x80) return 1;
  size_t length;
  unsigned char min_second = 0x80, max_second = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) min_second = 0xA0;
    if (lead == 0xED) max_second = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) min_second = 0x90;
    if (lead == 0xF4) max_second = 0x8F;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < min_second || byte(i + 1) > max_second) return 0;
  for (size_t k = 2; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  }
  return length;
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t length = Utf8SequenceLength(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

std::string ToValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  size_t i = 0;
  while (i < text.size()) {
    size_t length = Utf8SequenceLength(text, i);
    if (length == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER, one per invalid byte
      ++i;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

}  // namespace lantern::telemetry
