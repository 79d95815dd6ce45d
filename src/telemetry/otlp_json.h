// OTLP/JSON: the protobuf JSON mapping with OTLP's exceptions (trace and span ids as
// lowercase hex, enums as integers, lowerCamelCase keys, 64-bit integers as strings).
// Used by the OTLP/HTTP JSON exporter and the file exporter.
#pragma once

#include <span>
#include <string>

#include "telemetry/span_data.h"

namespace lantern::telemetry {

// Appends one ExportTraceServiceRequest holding `spans` (grouped by resource and scope)
// as a single line of JSON, without a trailing newline.
void AppendOtlpJson(std::span<const SpanData* const> spans, std::string* out);

}  // namespace lantern::telemetry
