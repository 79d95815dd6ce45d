// SpanData -> the OTLP protobuf ExportTraceServiceRequest. Internal to telemetry/: this
// header pulls in generated protobuf code, which nothing outside telemetry/ may include.
#pragma once

#include <span>

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "telemetry/span_data.h"

namespace lantern::telemetry {

namespace otlp_proto = ::opentelemetry::proto;
using ExportTraceServiceRequest = otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
using ExportTraceServiceResponse = otlp_proto::collector::trace::v1::ExportTraceServiceResponse;

// Appends `spans` to `request`, one ResourceSpans per resource and one ScopeSpans per
// scope. Invalid UTF-8 in strings is replaced by U+FFFD.
void FillExportRequest(std::span<const SpanData* const> spans, ExportTraceServiceRequest* request);

}  // namespace lantern::telemetry
