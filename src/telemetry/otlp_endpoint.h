// OTLP endpoint and header syntax, as users write them in OTEL_EXPORTER_OTLP_* variables
// and flags: "grpc://host:4317", "http://host:4318/v1/traces", "https://…" or "host:port".
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace lantern::telemetry {

struct OtlpEndpoint {
  std::string scheme;  // "http", "https", "grpc", or empty when written as host[:port]
  std::string host;    // IPv6 literals keep their brackets: "[::1]"
  int port = 0;        // 0 when not written
  std::string path;    // empty or starting with '/'; includes any query
};

// Parses an endpoint; errors name the value and what is wrong with it.
Result<OtlpEndpoint> ParseOtlpEndpoint(std::string_view text);

// "host:port" for a gRPC channel; a missing port becomes 443 for https, 80 for http and
// 4317 (the OTLP/gRPC port) otherwise.
std::string GrpcTarget(const OtlpEndpoint& endpoint);

// Whether a gRPC endpoint uses TLS: https:// always, http:// never, otherwise (grpc:// or
// no scheme) unless `insecure` is set, as the OpenTelemetry SDKs do.
bool GrpcUsesTls(const OtlpEndpoint& endpoint, bool insecure);

// The URL an HTTP exporter posts to: a missing or grpc scheme becomes http; with
// `append_signal_path` (the generic OTEL_EXPORTER_OTLP_ENDPOINT) "v1/traces" is appended
// to the path, else the path is used as is.
std::string HttpTracesUrl(const OtlpEndpoint& endpoint, bool append_signal_path);
// The same for any signal: `signal_path` is "v1/traces", "v1/metrics" or "v1/logs".
std::string HttpSignalUrl(const OtlpEndpoint& endpoint, bool append_signal_path,
                          std::string_view signal_path);

// Parses OTEL_EXPORTER_OTLP_HEADERS syntax: "key1=value1,key2=value%20two" (W3C
// baggage-like, values percent-decoded). Malformed entries are skipped; each skipped
// entry adds a message to `warnings`.
std::vector<std::pair<std::string, std::string>> ParseOtlpHeaders(
    std::string_view text, std::vector<std::string>* warnings);

// Decodes %XX escapes; false when an escape is malformed.
bool PercentDecode(std::string_view text, std::string* out);

}  // namespace lantern::telemetry
