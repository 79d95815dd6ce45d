// The generated OTLP protobuf classes, for parsing collector responses. Internal to
// telemetry/: nothing outside it may include generated protobuf code. (Requests are
// encoded without them, by otlp_wire.h.)
#pragma once

#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"

namespace lantern::telemetry {

namespace otlp_proto = ::opentelemetry::proto;
using ExportTraceServiceRequest = otlp_proto::collector::trace::v1::ExportTraceServiceRequest;
using ExportTraceServiceResponse = otlp_proto::collector::trace::v1::ExportTraceServiceResponse;

}  // namespace lantern::telemetry
