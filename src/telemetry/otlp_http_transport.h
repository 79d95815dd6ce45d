// OTLP/HTTP: POST of a protobuf or JSON ExportTraceServiceRequest with libcurl, one
// connection kept alive between sends. Internal to telemetry/.
#pragma once

#include <memory>

#include "base/status.h"
#include "telemetry/otlp_config.h"
#include "telemetry/otlp_transport.h"

namespace lantern::telemetry {

// `options.endpoint` is the full URL. Errors name an unusable URL or certificate file.
Result<std::unique_ptr<OtlpTransport>> CreateOtlpHttpTransport(const OtlpExporterOptions& options);

}  // namespace lantern::telemetry
