// The contract between the SDK half (Init in sdk_init.cc) and the OTLP half
// (otlp_*.cc) of telemetry/: what an OTLP span exporter is configured with, and the two
// functions the OTLP half implements (in otlp_exporter_factory.cc) so that Init can build
// an OTLP exporter without including gRPC, protobuf or curl headers.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "telemetry/env.h"
#include "telemetry/exporter.h"

namespace lantern::telemetry {

enum class OtlpProtocol { kGrpc, kHttpProtobuf, kHttpJson };
enum class OtlpCompression { kNone, kGzip };
// Which signal an exporter carries: picks the OTEL_EXPORTER_OTLP_<SIGNAL>_* variables, the
// HTTP path (v1/traces, v1/metrics, v1/logs) and the gRPC service.
enum class OtlpSignal { kTraces, kMetrics, kLogs };

// Everything an OTLP span exporter needs, resolved from OTEL_EXPORTER_OTLP_[TRACES_]*.
struct OtlpExporterOptions {
  // Where to send: for HTTP the full URL ("http://host:4318/v1/traces"; the generic
  // OTEL_EXPORTER_OTLP_ENDPOINT gets "v1/traces" appended, the per-signal one is used as
  // is); for gRPC the endpoint as written ("grpc://host:4317", "http://…", "https://…"
  // or "host:port").
  std::string endpoint;
  OtlpProtocol protocol = OtlpProtocol::kGrpc;  // the default vLLM users' documents expect
  // gRPC without TLS (OTEL_EXPORTER_OTLP_[TRACES_]INSECURE, or an http:// scheme).
  bool insecure = false;
  // Extra request headers / gRPC metadata (OTEL_EXPORTER_OTLP_[TRACES_]HEADERS, decoded).
  std::vector<std::pair<std::string, std::string>> headers;
  // The whole export, retries included, must finish within this.
  std::chrono::milliseconds timeout{10000};
  OtlpCompression compression = OtlpCompression::kNone;
  // PEM file paths; empty when unset.
  std::string certificate_file;
  std::string client_key_file;
  std::string client_certificate_file;
  OtlpSignal signal = OtlpSignal::kTraces;
};

// Resolves the options from the environment (looked up through `env`, so tests can pass a
// map). A non-empty `endpoint_override` (the server's --otlp-traces-endpoint flag) takes
// the place of OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: it is a per-signal endpoint, used as is.
// Invalid values warn and fall back to defaults (the spec's rule); an error is returned
// only when no usable configuration can be built. Implemented by the OTLP half.
// `signal` picks the per-signal variables (OTEL_EXPORTER_OTLP_METRICS_* for metrics).
Result<OtlpExporterOptions> OtlpExporterOptionsFromEnv(const EnvLookup& env,
                                                       std::string_view endpoint_override,
                                                       OtlpSignal signal = OtlpSignal::kTraces);

// Builds the exporter for `options`. Must not block on the network (connect lazily).
// Implemented by the OTLP half in otlp_exporter_factory.cc.
Result<std::unique_ptr<SpanExporter>> CreateOtlpSpanExporter(const OtlpExporterOptions& options);

// The OTLP half reports retries, refused/partially accepted spans and oversized requests
// through telemetry/health.h (RecordExportRetry, RecordSpansDropped, ...). The batch span
// processor itself counts exported spans and failed batches from Export's result, so an
// exporter must NOT count those again.

}  // namespace lantern::telemetry
