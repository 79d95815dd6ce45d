// OTLP/gRPC: one TraceService/Export call per send over a channel that connects lazily.
// Internal to telemetry/.
#pragma once

#include <memory>

#include "base/status.h"
#include "telemetry/otlp_config.h"
#include "telemetry/otlp_transport.h"

namespace lantern::telemetry {

// Reads the certificate files named in `options`; errors name the file.
Result<std::unique_ptr<OtlpTransport>> CreateOtlpGrpcTransport(const OtlpExporterOptions& options);

// Reads a whole (PEM) file; the error names `what` and the path.
Result<std::string> ReadPemFile(const std::string& path, std::string_view what);

}  // namespace lantern::telemetry
