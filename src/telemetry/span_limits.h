// Span limits (OTEL_SPAN_*_LIMIT and friends) and the attribute rules that use them:
// setting an existing key replaces its value; a new key beyond the count limit is dropped
// and counted; strings longer than the length limit are truncated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>

#include "telemetry/env.h"
#include "telemetry/span_data.h"

namespace lantern::telemetry {

struct SpanLimits {
  static constexpr size_t kUnlimited = std::numeric_limits<size_t>::max();
  size_t attribute_count = 128;
  size_t event_count = 128;
  size_t link_count = 128;
  size_t event_attribute_count = 128;
  size_t link_attribute_count = 128;
  // In characters (UTF-8 code points) of strings and of each string in a string array.
  size_t attribute_value_length = kUnlimited;
};

// Reads OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT (else OTEL_ATTRIBUTE_COUNT_LIMIT),
// OTEL_SPAN_EVENT_COUNT_LIMIT, OTEL_SPAN_LINK_COUNT_LIMIT, OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT
// and OTEL_LINK_ATTRIBUTE_COUNT_LIMIT (each else OTEL_ATTRIBUTE_COUNT_LIMIT),
// OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT (else OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT).
SpanLimits SpanLimitsFromEnv(const EnvLookup& env);

// Truncates strings in `value` to `max_chars` code points (never splitting a UTF-8
// sequence).
void TruncateAttributeValue(AttributeValue& value, size_t max_chars);

// Sets key=value in `attributes` under the limits; increments `*dropped` when refused.
void SetLimitedAttribute(Attributes& attributes, uint32_t* dropped, AttributeKey&& key,
                         AttributeValue&& value, size_t count_limit, size_t value_length_limit);

// Applies the limits to a whole list given at once (span start, an event, a link): later
// duplicates replace earlier values, as if set one by one.
void ApplyAttributeLimits(Attributes& attributes, uint32_t* dropped, size_t count_limit,
                          size_t value_length_limit);

}  // namespace lantern::telemetry
