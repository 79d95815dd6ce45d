// OtlpExporterOptionsFromEnv (declared in otlp_config.h): the OTEL_EXPORTER_OTLP_*
// variables of the OpenTelemetry specification, the per-signal form (TRACES_, METRICS_, LOGS_)
// winning over the generic one, empty meaning unset, bad values warned about and ignored.
#include <charconv>
#include <optional>

#include "base/log.h"
#include "telemetry/otlp_config.h"
#include "telemetry/otlp_endpoint.h"

namespace lantern::telemetry {
namespace {

constexpr std::string_view kPrefix = "OTEL_EXPORTER_OTLP_";

std::string_view SignalPrefix(OtlpSignal signal) {
  switch (signal) {
    case OtlpSignal::kMetrics:
      return "OTEL_EXPORTER_OTLP_METRICS_";
    case OtlpSignal::kLogs:
      return "OTEL_EXPORTER_OTLP_LOGS_";
    case OtlpSignal::kTraces:
      break;
  }
  return "OTEL_EXPORTER_OTLP_TRACES_";
}

std::string_view SignalPath(OtlpSignal signal) {
  switch (signal) {
    case OtlpSignal::kMetrics:
      return "v1/metrics";
    case OtlpSignal::kLogs:
      return "v1/logs";
    case OtlpSignal::kTraces:
      break;
  }
  return "v1/traces";
}

void Warn(std::string_view message) { LANTERN_LOG(kWarning, "otlp") << message; }

std::string Quoted(std::string_view name, std::string_view value) {
  return std::string(name) + "=\"" + std::string(value) + "\"";
}

// Looks up <prefix><suffix> for the per-signal then the generic prefix and returns the
// first value `parse` accepts; values it rejects are warned about and skipped.
template <typename T, typename Parse>
std::optional<T> FirstValid(const EnvLookup& env, std::string_view signal_prefix,
                            std::string_view suffix, Parse parse) {
  for (std::string_view prefix : {signal_prefix, kPrefix}) {
    std::string name = std::string(prefix) + std::string(suffix);
    std::optional<std::string> value = EnvString(env, name);
    if (!value) continue;
    std::string why;
    std::optional<T> parsed = parse(*value, &why);
    if (parsed) return parsed;
    Warn(Quoted(name, *value) + " ignored: " + why);
  }
  return std::nullopt;
}

std::optional<OtlpProtocol> ParseProtocol(const std::string& value, std::string* why) {
  std::string lower = AsciiLower(TrimWhitespace(value));
  if (lower == "grpc") return OtlpProtocol::kGrpc;
  if (lower == "http/protobuf") return OtlpProtocol::kHttpProtobuf;
  if (lower == "http/json") return OtlpProtocol::kHttpJson;
  *why = "expected grpc, http/protobuf or http/json";
  return std::nullopt;
}

std::optional<bool> ParseBool(const std::string& value, std::string* why) {
  std::string lower = AsciiLower(TrimWhitespace(value));
  if (lower == "true") return true;
  if (lower == "false") return false;
  *why = "expected true or false";
  return std::nullopt;
}

std::optional<OtlpCompression> ParseCompression(const std::string& value, std::string* why) {
  std::string lower = AsciiLower(TrimWhitespace(value));
  if (lower == "gzip") return OtlpCompression::kGzip;
  if (lower == "none") return OtlpCompression::kNone;
  *why = "expected gzip or none";
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> ParseTimeout(const std::string& value, std::string* why) {
  std::string_view text = TrimWhitespace(value);
  int64_t ms = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || ms <= 0) {
    *why = "expected a positive number of milliseconds";
    return std::nullopt;
  }
  return std::chrono::milliseconds(ms);
}

std::optional<std::string> ParsePath(const std::string& value, std::string* why) {
  return std::string(TrimWhitespace(value));
}

}  // namespace

Result<OtlpExporterOptions> OtlpExporterOptionsFromEnv(const EnvLookup& env,
                                                       std::string_view endpoint_override,
                                                       OtlpSignal signal) {
  const std::string_view signal_prefix = SignalPrefix(signal);
  OtlpExporterOptions options;
  options.signal = signal;
  options.protocol = FirstValid<OtlpProtocol>(env, signal_prefix, "PROTOCOL", ParseProtocol)
                         .value_or(OtlpProtocol::kGrpc);
  const bool http = options.protocol != OtlpProtocol::kGrpc;

  // The endpoint: the flag, then the per-signal variable (both used as is), then the
  // generic one (a base URL for HTTP), then the default.
  std::optional<OtlpEndpoint> endpoint;
  bool per_signal = true;
  if (!TrimWhitespace(endpoint_override).empty()) {
    Result<OtlpEndpoint> parsed = ParseOtlpEndpoint(endpoint_override);
    if (!parsed.ok()) return parsed.status();
    endpoint = std::move(parsed).value();
  }
  for (std::string_view prefix : {signal_prefix, kPrefix}) {
    if (endpoint) break;
    std::string name = std::string(prefix) + "ENDPOINT";
    std::optional<std::string> value = EnvString(env, name);
    if (!value) continue;
    Result<OtlpEndpoint> parsed = ParseOtlpEndpoint(*value);
    if (!parsed.ok()) {
      Warn(name + " ignored: " + parsed.status().message());
      continue;
    }
    endpoint = std::move(parsed).value();
    per_signal = prefix == signal_prefix;
  }
  if (!endpoint) {
    options.endpoint =
        http ? "http://localhost:4318/" + std::string(SignalPath(signal)) : "http://localhost:4317";
  } else if (http) {
    options.endpoint =
        HttpSignalUrl(*endpoint, /*append_signal_path=*/!per_signal, SignalPath(signal));
  } else {
    options.endpoint =
        endpoint->scheme.empty() ? endpoint->host : endpoint->scheme + "://" + endpoint->host;
    if (endpoint->port != 0) options.endpoint += ":" + std::to_string(endpoint->port);
    if (!endpoint->path.empty() && endpoint->path != "/") {
      Warn("the path \"" + endpoint->path + "\" of the OTLP/gRPC endpoint is ignored");
    }
  }

  std::optional<bool> insecure = FirstValid<bool>(env, signal_prefix, "INSECURE", ParseBool);
  options.insecure = insecure.value_or(false);
  if (!http && endpoint && endpoint->scheme == "http") options.insecure = true;
  if (!http && endpoint && endpoint->scheme == "https") options.insecure = false;
  if (!http && !endpoint) options.insecure = true;  // the default is http://localhost:4317

  for (std::string_view prefix : {signal_prefix, kPrefix}) {
    std::string name = std::string(prefix) + "HEADERS";
    std::optional<std::string> value = EnvString(env, name);
    if (!value) continue;
    std::vector<std::string> warnings;
    options.headers = ParseOtlpHeaders(*value, &warnings);
    for (const std::string& warning : warnings) Warn(name + ": " + warning);
    break;
  }
  options.timeout =
      FirstValid<std::chrono::milliseconds>(env, signal_prefix, "TIMEOUT", ParseTimeout)
          .value_or(std::chrono::milliseconds(10000));
  options.compression =
      FirstValid<OtlpCompression>(env, signal_prefix, "COMPRESSION", ParseCompression)
          .value_or(OtlpCompression::kNone);
  options.certificate_file =
      FirstValid<std::string>(env, signal_prefix, "CERTIFICATE", ParsePath).value_or("");
  options.client_key_file =
      FirstValid<std::string>(env, signal_prefix, "CLIENT_KEY", ParsePath).value_or("");
  options.client_certificate_file =
      FirstValid<std::string>(env, signal_prefix, "CLIENT_CERTIFICATE", ParsePath).value_or("");
  return options;
}

}  // namespace lantern::telemetry
