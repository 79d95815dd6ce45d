#include "telemetry/span_limits.h"

#include <algorithm>
#include <string>
#include <utility>
#include <variant>

namespace lantern::telemetry {
namespace {

size_t LimitFromEnv(const EnvLookup& env, std::string_view name, std::string_view fallback_name,
                    size_t default_value) {
  if (std::optional<int64_t> v = EnvInt(env, name)) return static_cast<size_t>(*v);
  if (!fallback_name.empty()) {
    if (std::optional<int64_t> v = EnvInt(env, fallback_name)) return static_cast<size_t>(*v);
  }
  return default_value;
}

void TruncateString(std::string& s, size_t max_chars) {
  if (s.size() <= max_chars) return;  // bytes >= code points
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    // Count the lead bytes; continuation bytes are 10xxxxxx.
    if ((static_cast<unsigned char>(s[i]) & 0xc0) != 0x80) {
      if (chars == max_chars) {
        s.resize(i);
        return;
      }
      ++chars;
    }
  }
}

}  // namespace

SpanLimits SpanLimitsFromEnv(const EnvLookup& env) {
  SpanLimits limits;
  const char* general = "OTEL_ATTRIBUTE_COUNT_LIMIT";
  limits.attribute_count = LimitFromEnv(env, "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", general, 128);
  limits.event_count = LimitFromEnv(env, "OTEL_SPAN_EVENT_COUNT_LIMIT", "", 128);
  limits.link_count = LimitFromEnv(env, "OTEL_SPAN_LINK_COUNT_LIMIT", "", 128);
  limits.event_attribute_count =
      LimitFromEnv(env, "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", general, 128);
  limits.link_attribute_count = LimitFromEnv(env, "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", general, 128);
  limits.attribute_value_length =
      LimitFromEnv(env, "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT",
                   "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", SpanLimits::kUnlimited);
  return limits;
}

void TruncateAttributeValue(AttributeValue& value, size_t max_chars) {
  if (max_chars == SpanLimits::kUnlimited) return;
  if (auto* s = std::get_if<std::string>(&value)) {
    TruncateString(*s, max_chars);
  } else if (auto* list = std::get_if<std::vector<std::string>>(&value)) {
    for (std::string& item : *list) TruncateString(item, max_chars);
  }
}

void SetLimitedAttribute(Attributes& attributes, uint32_t* dropped, AttributeKey&& key,
                         AttributeValue&& value, size_t count_limit, size_t value_length_limit) {
  TruncateAttributeValue(value, value_length_limit);
  for (Attribute& existing : attributes) {
    if (existing.key == key) {
      existing.value = std::move(value);
      return;
    }
  }
  if (attributes.size() >= count_limit) {
    ++*dropped;
    return;
  }
  // One allocation for the usual dozen or so attributes instead of doubling from one.
  if (attributes.capacity() == 0) attributes.reserve(std::min<size_t>(16, count_limit));
  attributes.push_back(Attribute{std::move(key), std::move(value)});
}

void ApplyAttributeLimits(Attributes& attributes, uint32_t* dropped, size_t count_limit,
                          size_t value_length_limit) {
  // Fast path: the common case of distinct keys within the limits.
  bool distinct = true;
  for (size_t i = 0; i < attributes.size() && distinct; ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (attributes[i].key == attributes[j].key) {
        distinct = false;
        break;
      }
    }
  }
  if (distinct && attributes.size() <= count_limit) {
    if (value_length_limit != SpanLimits::kUnlimited) {
      for (Attribute& a : attributes) TruncateAttributeValue(a.value, value_length_limit);
    }
    return;
  }
  Attributes given = std::move(attributes);
  attributes.clear();
  for (Attribute& a : given) {
    SetLimitedAttribute(attributes, dropped, std::move(a.key), std::move(a.value), count_limit,
                        value_length_limit);
  }
}

}  // namespace lantern::telemetry
