// OTLP requests nest spans by resource, then by instrumentation scope. The SDK shares one
// Resource and one InstrumentationScope object among many spans, so spans are grouped by
// the identity of those objects, in order of first appearance.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "telemetry/span_data.h"

namespace lantern::telemetry {

struct OtlpScopeGroup {
  const InstrumentationScope* scope = nullptr;  // null: the empty scope
  std::vector<const SpanData*> spans;
};

struct OtlpResourceGroup {
  const Resource* resource = nullptr;  // null: the empty resource
  std::vector<OtlpScopeGroup> scopes;
};

std::vector<OtlpResourceGroup> GroupByResourceAndScope(std::span<const SpanData* const> spans);

// OTLP strings must be UTF-8 (collectors refuse a request holding one invalid string), so
// invalid byte sequences are replaced by U+FFFD before they are sent.
bool IsValidUtf8(std::string_view text);
std::string ToValidUtf8(std::string_view text);

}  // namespace lantern::telemetry
