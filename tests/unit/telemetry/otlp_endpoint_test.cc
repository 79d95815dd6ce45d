// Endpoint and header syntax of OTEL_EXPORTER_OTLP_* (otlp_endpoint.h).
#include "telemetry/otlp_endpoint.h"

#include <gtest/gtest.h>

namespace lantern::telemetry {
namespace {

TEST(OtlpEndpoint, ParsesTheFormsUsersWrite) {
  struct Case {
    const char* text;
    const char* scheme;
    const char* host;
    int port;
    const char* path;
  } cases[] = {
      {"grpc://jaeger:4317", "grpc", "jaeger", 4317, ""},
      {"http://localhost:4318/v1/traces", "http", "localhost", 4318, "/v1/traces"},
      {"HTTPS://Collector.example.com", "https", "Collector.example.com", 0, ""},
      {"localhost:4317", "", "localhost", 4317, ""},
      {"otel-collector.observability.svc", "", "otel-collector.observability.svc", 0, ""},
      {"  http://10.0.0.7:4318/  ", "http", "10.0.0.7", 4318, "/"},
      {"http://[::1]:4318/otlp?x=1", "http", "[::1]", 4318, "/otlp?x=1"},
      {"[fe80::1]", "", "[fe80::1]", 0, ""},
  };
  for (const Case& c : cases) {
    Result<OtlpEndpoint> parsed = ParseOtlpEndpoint(c.text);
    ASSERT_TRUE(parsed.ok()) << c.text << ": " << parsed.status().ToString();
    EXPECT_EQ(parsed->scheme, c.scheme) << c.text;
    EXPECT_EQ(parsed->host, c.host) << c.text;
    EXPECT_EQ(parsed->port, c.port) << c.text;
    EXPECT_EQ(parsed->path, c.path) << c.text;
  }
}

TEST(OtlpEndpoint, RejectsMalformedEndpointsNamingThem) {
  for (const char* text : {"", "   ", "ftp://host:21", "http://", "http://:4318", "host:", "host:0",
                           "host:65536", "host:43a7", "http://user@host:1", "http://[::1",
                           "http://[::1]x", "ho st:1", "http://h:1?x", "unix:///tmp/sock"}) {
    Result<OtlpEndpoint> parsed = ParseOtlpEndpoint(text);
    EXPECT_FALSE(parsed.ok()) << "accepted \"" << text << "\"";
    if (!parsed.ok() && *text != '\0' && std::string_view(text) != "   ") {
      EXPECT_NE(parsed.status().message().find(std::string(text)), std::string::npos)
          << parsed.status().message();
    }
  }
}

TEST(OtlpEndpoint, GrpcTargetAndTls) {
  auto endpoint = [](const char* text) { return ParseOtlpEndpoint(text).value(); };
  EXPECT_EQ(GrpcTarget(endpoint("grpc://jaeger:4317")), "jaeger:4317");
  EXPECT_EQ(GrpcTarget(endpoint("jaeger")), "jaeger:4317");
  EXPECT_EQ(GrpcTarget(endpoint("https://collector")), "collector:443");
  EXPECT_EQ(GrpcTarget(endpoint("http://collector")), "collector:80");
  EXPECT_EQ(GrpcTarget(endpoint("http://[::1]:5000/ignored")), "[::1]:5000");
  // https always encrypts, http never; otherwise the insecure option decides.
  EXPECT_TRUE(GrpcUsesTls(endpoint("https://c:1"), /*insecure=*/true));
  EXPECT_FALSE(GrpcUsesTls(endpoint("http://c:1"), /*insecure=*/false));
  EXPECT_TRUE(GrpcUsesTls(endpoint("grpc://c:1"), /*insecure=*/false));
  EXPECT_FALSE(GrpcUsesTls(endpoint("grpc://c:1"), /*insecure=*/true));
  EXPECT_TRUE(GrpcUsesTls(endpoint("c:1"), /*insecure=*/false));
}

TEST(OtlpEndpoint, HttpUrlAppendsTheSignalPathOnlyToTheGenericEndpoint) {
  auto url = [](const char* text, bool generic) {
    return HttpTracesUrl(ParseOtlpEndpoint(text).value(), generic);
  };
  EXPECT_EQ(url("http://c:4318", true), "http://c:4318/v1/traces");
  EXPECT_EQ(url("http://c:4318/", true), "http://c:4318/v1/traces");
  EXPECT_EQ(url("https://c/otlp", true), "https://c/otlp/v1/traces");
  EXPECT_EQ(url("http://c:4318/custom", false), "http://c:4318/custom");
  EXPECT_EQ(url("http://c:4318", false), "http://c:4318/");
  EXPECT_EQ(url("c:4318", true), "http://c:4318/v1/traces");
  EXPECT_EQ(url("grpc://c:4318", false), "http://c:4318/");
}

TEST(OtlpHeaders, ParsesBaggageLikeListsPercentDecoded) {
  std::vector<std::string> warnings;
  auto headers = ParseOtlpHeaders(
      " api-key = s3cr%3Dt%2C%20x ,Authorization=Bearer%20abc,,empty=, x-%41=1", &warnings);
  EXPECT_TRUE(warnings.empty());
  ASSERT_EQ(headers.size(), 4u);
  EXPECT_EQ(headers[0], (std::pair<std::string, std::string>{"api-key", "s3cr=t, x"}));
  EXPECT_EQ(headers[1], (std::pair<std::string, std::string>{"Authorization", "Bearer abc"}));
  EXPECT_EQ(headers[2], (std::pair<std::string, std::string>{"empty", ""}));
  EXPECT_EQ(headers[3], (std::pair<std::string, std::string>{"x-A", "1"}));
}

TEST(OtlpHeaders, SkipsMalformedEntriesWithAWarningEach) {
  std::vector<std::string> warnings;
  auto headers = ParseOtlpHeaders(
      "novalue,=v,bad key=1,bad%zz=1,good=ok,crlf=a%0D%0Ab,nul=%00,trailing=%4", &warnings);
  ASSERT_EQ(headers.size(), 1u);
  EXPECT_EQ(headers[0].first, "good");
  EXPECT_EQ(warnings.size(), 7u);
  for (const std::string& warning : warnings) {
    EXPECT_NE(warning.find("skipped"), std::string::npos) << warning;
  }
}

TEST(OtlpHeaders, PercentDecode) {
  std::string out;
  EXPECT_TRUE(PercentDecode("a%20b%2fc%C3%A9", &out));
  EXPECT_EQ(out, "a b/c\xC3\xA9");
  EXPECT_TRUE(PercentDecode("plain+text", &out));
  EXPECT_EQ(out, "plain+text");  // '+' is not a space in this syntax
  EXPECT_FALSE(PercentDecode("%", &out));
  EXPECT_FALSE(PercentDecode("%2", &out));
  EXPECT_FALSE(PercentDecode("%g0", &out));
}

}  // namespace
}  // namespace lantern::telemetry
