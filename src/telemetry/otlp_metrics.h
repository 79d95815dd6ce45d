// OTLP encodings of a metrics collection: the ExportMetricsServiceRequest as protobuf
// (written straight from ResourceMetrics, like otlp_wire.h for spans) and as OTLP/JSON
// (ids as hex, 64-bit integers as strings, enums as integers). Internal to telemetry/.
#pragma once

#include <string>

#include "telemetry/metric_data.h"

namespace lantern::telemetry {

void AppendOtlpMetricsProtobuf(const ResourceMetrics& metrics, std::string* out);
// One line of JSON, without a trailing newline.
void AppendOtlpMetricsJson(const ResourceMetrics& metrics, std::string* out);

}  // namespace lantern::telemetry
