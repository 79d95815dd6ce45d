// CreateOtlpSpanExporter (declared in otlp_config.h) and CreateOtlpExporter: pick the
// transport for the protocol and wrap it in the retrying, counting OtlpExporter.
#include "base/log.h"
#include "telemetry/otlp_exporter.h"
#include "telemetry/otlp_grpc_transport.h"
#include "telemetry/otlp_http_transport.h"
#include "telemetry/otlp_transport.h"

namespace lantern::telemetry {

Result<std::unique_ptr<OtlpExporter>> CreateOtlpExporter(const OtlpExporterOptions& options,
                                                         RetryPolicy retry_policy) {
  Result<std::unique_ptr<OtlpTransport>> transport = options.protocol == OtlpProtocol::kGrpc
                                                         ? CreateOtlpGrpcTransport(options)
                                                         : CreateOtlpHttpTransport(options);
  if (!transport.ok()) return transport.status();
  LANTERN_LOG(kInfo, "otlp") << "exporting spans with " << (*transport)->Describe() << ", timeout "
                             << options.timeout.count() << " ms"
                             << (options.compression == OtlpCompression::kGzip ? ", gzip" : "");
  return std::make_unique<OtlpExporter>(std::move(transport).value(), options.timeout,
                                        retry_policy);
}

Result<std::unique_ptr<SpanExporter>> CreateOtlpSpanExporter(const OtlpExporterOptions& options) {
  Result<std::unique_ptr<OtlpExporter>> exporter = CreateOtlpExporter(options);
  if (!exporter.ok()) return exporter.status();
  return std::unique_ptr<SpanExporter>(std::move(exporter).value());
}

}  // namespace lantern::telemetry
