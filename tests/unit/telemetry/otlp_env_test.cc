// OtlpExporterOptionsFromEnv: the OTEL_EXPORTER_OTLP_* rules of the specification.
#include <gtest/gtest.h>

#include <map>

#include "telemetry/otlp_config.h"

namespace lantern::telemetry {
namespace {

using Env = std::map<std::string, std::string>;

OtlpExporterOptions Resolve(const Env& vars, std::string_view override_endpoint = "") {
  EnvLookup lookup = [vars](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  Result<OtlpExporterOptions> options = OtlpExporterOptionsFromEnv(lookup, override_endpoint);
  EXPECT_TRUE(options.ok()) << options.status().ToString();
  return options.ok() ? *options : OtlpExporterOptions{};
}

TEST(OtlpEnv, DefaultsAreGrpcToLocalhostWithoutTls) {
  OtlpExporterOptions options = Resolve({});
  EXPECT_EQ(options.protocol, OtlpProtocol::kGrpc);
  EXPECT_EQ(options.endpoint, "http://localhost:4317");
  EXPECT_TRUE(options.insecure);
  EXPECT_EQ(options.timeout, std::chrono::milliseconds(10000));
  EXPECT_EQ(options.compression, OtlpCompression::kNone);
  EXPECT_TRUE(options.headers.empty());
  EXPECT_TRUE(options.certificate_file.empty());
}

TEST(OtlpEnv, HttpDefaultEndpoint) {
  for (const char* protocol : {"http/protobuf", "http/json", " HTTP/JSON "}) {
    OtlpExporterOptions options = Resolve({{"OTEL_EXPORTER_OTLP_PROTOCOL", protocol}});
    EXPECT_NE(options.protocol, OtlpProtocol::kGrpc) << protocol;
    EXPECT_EQ(options.endpoint, "http://localhost:4318/v1/traces");
  }
}

TEST(OtlpEnv, GenericHttpEndpointGetsTheSignalPathPerSignalIsUsedAsIs) {
  Env generic = {{"OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"},
                 {"OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"}};
  EXPECT_EQ(Resolve(generic).endpoint, "http://collector:4318/v1/traces");
  Env per_signal = generic;
  per_signal["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = "https://tempo:443/otlp/traces";
  EXPECT_EQ(Resolve(per_signal).endpoint, "https://tempo:443/otlp/traces");
  // The --otlp-traces-endpoint flag is a per-signal endpoint and beats both variables.
  EXPECT_EQ(Resolve(per_signal, "http://flag:9999/x").endpoint, "http://flag:9999/x");
}

TEST(OtlpEnv, PerSignalVariablesWin) {
  OtlpExporterOptions options = Resolve({
      {"OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"},
      {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"},
      {"OTEL_EXPORTER_OTLP_TIMEOUT", "5000"},
      {"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "2500"},
      {"OTEL_EXPORTER_OTLP_COMPRESSION", "none"},
      {"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", "gzip"},
      {"OTEL_EXPORTER_OTLP_HEADERS", "a=1"},
      {"OTEL_EXPORTER_OTLP_TRACES_HEADERS", "b=2"},
      {"OTEL_EXPORTER_OTLP_CERTIFICATE", "/generic.pem"},
      {"OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", "/traces.pem"},
      {"OTEL_EXPORTER_OTLP_CLIENT_KEY", "/key.pem"},
      {"OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", "/client.pem"},
  });
  EXPECT_EQ(options.protocol, OtlpProtocol::kHttpJson);
  EXPECT_EQ(options.timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(options.compression, OtlpCompression::kGzip);
  ASSERT_EQ(options.headers.size(), 1u);
  EXPECT_EQ(options.headers[0].first, "b");
  EXPECT_EQ(options.certificate_file, "/traces.pem");
  EXPECT_EQ(options.client_key_file, "/key.pem");
  EXPECT_EQ(options.client_certificate_file, "/client.pem");
}

TEST(OtlpEnv, EmptyMeansUnsetAndBadValuesAreIgnored) {
  OtlpExporterOptions options = Resolve({
      {"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", ""},
      {"OTEL_EXPORTER_OTLP_PROTOCOL", "http/xml"},
      {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://nope"},
      {"OTEL_EXPORTER_OTLP_ENDPOINT", "grpc://jaeger:4317"},
      {"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "soon"},
      {"OTEL_EXPORTER_OTLP_TIMEOUT", "0"},
      {"OTEL_EXPORTER_OTLP_COMPRESSION", "brotli"},
      {"OTEL_EXPORTER_OTLP_TRACES_INSECURE", "yes"},
      {"OTEL_EXPORTER_OTLP_INSECURE", "TRUE"},
  });
  EXPECT_EQ(options.protocol, OtlpProtocol::kGrpc);
  EXPECT_EQ(options.endpoint, "grpc://jaeger:4317");  // the bad per-signal one is skipped
  EXPECT_EQ(options.timeout, std::chrono::milliseconds(10000));
  EXPECT_EQ(options.compression, OtlpCompression::kNone);
  EXPECT_TRUE(options.insecure);  // "yes" ignored, the generic "TRUE" applies
}

TEST(OtlpEnv, GrpcSchemeDecidesTlsWhereItCan) {
  // The vLLM documents' form: grpc:// plus INSECURE=true.
  OtlpExporterOptions vllm = Resolve({{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "grpc://j:4317"},
                                      {"OTEL_EXPORTER_OTLP_TRACES_INSECURE", "true"}});
  EXPECT_EQ(vllm.endpoint, "grpc://j:4317");
  EXPECT_TRUE(vllm.insecure);
  EXPECT_FALSE(Resolve({{"OTEL_EXPORTER_OTLP_ENDPOINT", "grpc://j:4317"}}).insecure);
  EXPECT_FALSE(Resolve({{"OTEL_EXPORTER_OTLP_ENDPOINT", "j:4317"}}).insecure);
  EXPECT_TRUE(Resolve({{"OTEL_EXPORTER_OTLP_ENDPOINT", "http://j:4317"}}).insecure);
  EXPECT_FALSE(Resolve({{"OTEL_EXPORTER_OTLP_ENDPOINT", "https://j:4317"},
                        {"OTEL_EXPORTER_OTLP_INSECURE", "true"}})
                   .insecure);
}

TEST(OtlpEnv, AnInvalidFlagEndpointIsAnError) {
  EnvLookup empty = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  Result<OtlpExporterOptions> options = OtlpExporterOptionsFromEnv(empty, "http://host:99999");
  ASSERT_FALSE(options.ok());
  EXPECT_NE(options.status().message().find("http://host:99999"), std::string::npos);
}

}  // namespace
}  // namespace lantern::telemetry
