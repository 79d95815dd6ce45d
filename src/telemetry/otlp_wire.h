// The OTLP protobuf encoding of an ExportTraceServiceRequest, written straight from
// SpanData into a byte string (no intermediate message objects: several times faster
// than filling generated protobuf classes, and no allocation per attribute). Field
// numbers are those of proto/opentelemetry/proto/{common,resource,trace,collector}.
#pragma once

#include <span>
#include <string>

#include "telemetry/span_data.h"

namespace lantern::telemetry {

// Appends the request holding `spans`, grouped by resource and scope. Invalid UTF-8 in
// strings is replaced by U+FFFD (protobuf parsers reject such strings).
void AppendOtlpProtobuf(std::span<const SpanData* const> spans, std::string* out);

}  // namespace lantern::telemetry
