#include "telemetry/otlp_proto.h"

#include "telemetry/otlp_grouping.h"

namespace lantern::telemetry {
namespace {

using otlp_proto::common::v1::AnyValue;
using otlp_proto::common::v1::KeyValue;
using otlp_proto::trace::v1::Span;

void SetString(std::string_view text, std::string* field) {
  if (IsValidUtf8(text)) {
    field->assign(text);
  } else {
    *field = ToValidUtf8(text);
  }
}

template <size_t N>
void SetId(const std::array<uint8_t, N>& id, std::string* field) {
  field->assign(reinterpret_cast<const char*>(id.data()), N);
}

void SetValue(const AttributeValue& value, AnyValue* out) {
  switch (value.index()) {
    case 0:
      out->set_bool_value(std::get<bool>(value));
      break;
    case 1:
      out->set_int_value(std::get<int64_t>(value));
      break;
    case 2:
      out->set_double_value(std::get<double>(value));
      break;
    case 3:
      SetString(std::get<std::string>(value), out->mutable_string_value());
      break;
    case 4:
      for (bool v : std::get<std::vector<bool>>(value)) {
        out->mutable_array_value()->add_values()->set_bool_value(v);
      }
      out->mutable_array_value();  // an empty array is still an array
      break;
    case 5:
      for (int64_t v : std::get<std::vector<int64_t>>(value)) {
        out->mutable_array_value()->add_values()->set_int_value(v);
      }
      out->mutable_array_value();
      break;
    case 6:
      for (double v : std::get<std::vector<double>>(value)) {
        out->mutable_array_value()->add_values()->set_double_value(v);
      }
      out->mutable_array_value();
      break;
    case 7:
      for (const std::string& v : std::get<std::vector<std::string>>(value)) {
        SetString(v, out->mutable_array_value()->add_values()->mutable_string_value());
      }
      out->mutable_array_value();
      break;
  }
}

void AddAttributes(const Attributes& attributes,
                   google::protobuf::RepeatedPtrField<KeyValue>* out) {
  out->Reserve(out->size() + static_cast<int>(attributes.size()));
  for (const Attribute& attribute : attributes) {
    KeyValue* kv = out->Add();
    SetString(attribute.key, kv->mutable_key());
    SetValue(attribute.value, kv->mutable_value());
  }
}

void FillSpan(const SpanData& data, Span* span) {
  SetId(data.trace_id, span->mutable_trace_id());
  SetId(data.span_id, span->mutable_span_id());
  if (data.parent_span_id != SpanId{}) SetId(data.parent_span_id, span->mutable_parent_span_id());
  if (!data.trace_state.empty()) SetString(data.trace_state, span->mutable_trace_state());
  span->set_flags(data.flags);
  SetString(data.name, span->mutable_name());
  span->set_kind(static_cast<Span::SpanKind>(data.kind));
  span->set_start_time_unix_nano(static_cast<uint64_t>(data.start_time_unix_nano));
  span->set_end_time_unix_nano(static_cast<uint64_t>(data.end_time_unix_nano));
  AddAttributes(data.attributes, span->mutable_attributes());
  span->set_dropped_attributes_count(data.dropped_attributes_count);
  for (const SpanEvent& event : data.events) {
    Span::Event* out = span->add_events();
    out->set_time_unix_nano(static_cast<uint64_t>(event.time_unix_nano));
    SetString(event.name, out->mutable_name());
    AddAttributes(event.attributes, out->mutable_attributes());
    out->set_dropped_attributes_count(event.dropped_attributes_count);
  }
  span->set_dropped_events_count(data.dropped_events_count);
  for (const SpanLink& link : data.links) {
    Span::Link* out = span->add_links();
    SetId(link.trace_id, out->mutable_trace_id());
    SetId(link.span_id, out->mutable_span_id());
    if (!link.trace_state.empty()) SetString(link.trace_state, out->mutable_trace_state());
    AddAttributes(link.attributes, out->mutable_attributes());
    out->set_dropped_attributes_count(link.dropped_attributes_count);
    out->set_flags(link.flags);
  }
  span->set_dropped_links_count(data.dropped_links_count);
  if (data.status_code != StatusCode::kUnset || !data.status_message.empty()) {
    auto* status = span->mutable_status();
    status->set_code(static_cast<otlp_proto::trace::v1::Status::StatusCode>(data.status_code));
    SetString(data.status_message, status->mutable_message());
  }
}

}  // namespace

void FillExportRequest(std::span<const SpanData* const> spans, ExportTraceServiceRequest* request) {
  for (const OtlpResourceGroup& group : GroupByResourceAndScope(spans)) {
    auto* resource_spans = request->add_resource_spans();
    auto* resource = resource_spans->mutable_resource();
    if (group.resource != nullptr) {
      AddAttributes(group.resource->attributes, resource->mutable_attributes());
    }
    for (const OtlpScopeGroup& scope_group : group.scopes) {
      auto* scope_spans = resource_spans->add_scope_spans();
      auto* scope = scope_spans->mutable_scope();
      if (scope_group.scope != nullptr) {
        SetString(scope_group.scope->name, scope->mutable_name());
        SetString(scope_group.scope->version, scope->mutable_version());
      }
      scope_spans->mutable_spans()->Reserve(static_cast<int>(scope_group.spans.size()));
      for (const SpanData* span : scope_group.spans) FillSpan(*span, scope_spans->add_spans());
    }
  }
}

}  // namespace lantern::telemetry
