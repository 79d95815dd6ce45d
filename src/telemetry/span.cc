#include "telemetry/span.h"

#include <algorithm>

#include "telemetry/health.h"
#include "telemetry/tracer.h"

namespace lantern::telemetry {

Span& Span::operator=(Span&& other) noexcept {
  if (this != &other) {
    End();
    data_ = std::move(other.data_);
    provider_ = other.provider_;
    context_ = std::move(other.context_);
  }
  return *this;
}

void Span::SetAttributeRecording(AttributeKey&& key, AttributeValue&& value) {
  const SpanLimits& limits = provider_->limits();
  Attributes& attributes = data_->attributes;
  // A key whose filter bit is clear is new: no need to compare it with every key set so
  // far (that scan was a quarter of a 15-attribute span's cost).
  const uint64_t bit = AttributeKeyFilterBit(key);
  const bool maybe_set = (data_->attribute_key_filter & bit) != 0;
  data_->attribute_key_filter |= bit;
  if (!maybe_set && attributes.size() < limits.attribute_count) {
    TruncateAttributeValue(value, limits.attribute_value_length);
    if (attributes.capacity() == 0)
      attributes.reserve(std::min<size_t>(16, limits.attribute_count));
    attributes.push_back(Attribute{std::move(key), std::move(value)});
    return;
  }
  SetLimitedAttribute(attributes, &data_->dropped_attributes_count, std::move(key),
                      std::move(value), limits.attribute_count, limits.attribute_value_length);
}

void Span::SetStringAttributeRecording(AttributeKey&& key, std::string_view value) {
  std::string text;
  if (!data_->spare_strings.empty()) {
    text = std::move(data_->spare_strings.back());
    data_->spare_strings.pop_back();
  }
  text.assign(value);
  SetAttributeRecording(std::move(key),
                        AttributeValue(std::in_place_type<std::string>, std::move(text)));
}

void Span::AddEventRecording(std::string_view name, Timestamp time, Attributes&& attributes) {
  const SpanLimits& limits = provider_->limits();
  if (data_->events.size() >= limits.event_count) {
    ++data_->dropped_events_count;
    return;
  }
  SpanEvent& event = data_->events.emplace_back();
  event.time_unix_nano = time.UnixNanosOrNow();
  event.name = std::string(name);
  event.attributes = std::move(attributes);
  ApplyAttributeLimits(event.attributes, &event.dropped_attributes_count,
                       limits.event_attribute_count, limits.attribute_value_length);
}

void Span::AddLinkRecording(const SpanContext& linked, Attributes&& attributes) {
  if (!linked.IsValid()) return;
  const SpanLimits& limits = provider_->limits();
  if (data_->links.size() >= limits.link_count) {
    ++data_->dropped_links_count;
    return;
  }
  SpanLink& link = data_->links.emplace_back();
  link.trace_id = linked.trace_id;
  link.span_id = linked.span_id;
  link.trace_state = linked.trace_state;
  link.flags = SpanFlagsFor(linked.trace_flags, linked.is_remote);
  link.attributes = std::move(attributes);
  ApplyAttributeLimits(link.attributes, &link.dropped_attributes_count, limits.link_attribute_count,
                       limits.attribute_value_length);
}

void Span::SetStatusRecording(StatusCode code, std::string_view description) {
  if (code == StatusCode::kUnset) return;
  if (data_->status_code == StatusCode::kOk) return;  // final
  data_->status_code = code;
  if (code == StatusCode::kError) {
    data_->status_message.assign(description);
  } else {
    data_->status_message.clear();
  }
}

void Span::EndRecording(Timestamp end_time) {
  data_->end_time_unix_nano = end_time.UnixNanosOrNow();
  RecordSpanEnded();
  provider_->OnEnd(std::move(data_));
  data_ = nullptr;
}

}  // namespace lantern::telemetry
