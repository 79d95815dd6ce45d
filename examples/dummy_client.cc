// The traced dummy client of the tracing walkthrough (docs/tracing.md): one CLIENT span
// `client-span` carrying the prompt, its context injected as `traceparent`, one POST to
// the server's /v1/completions. Spans go to standard output and, when the OTEL_* variables
// or --otlp-traces-endpoint name a collector, over OTLP, exactly as `lantern serve` does.
//
//   lantern_dummy_client [--url URL] [--prompt TEXT] [--model NAME] [--max-tokens N]
//
// Defaults come from LANTERN_URL, LANTERN_PROMPT and LANTERN_MODEL when set. The URL is the
// server's base URL, as curl_traceparent.sh takes it; a full .../v1/completions URL (the
// form this client used to take) still works as it is.
#include <CLI/CLI.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "telemetry/console_exporter.h"
#include "telemetry/propagation.h"
#include "telemetry/sdk.h"
#include "telemetry/tracer.h"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;
using lantern::telemetry::StatusCode;

std::string EnvOr(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

struct Url {
  std::string host, port, target;
};

// http://host[:port]/path only: the walkthrough talks to a local server in the clear.
bool ParseUrl(const std::string& text, Url* url) {
  const std::string scheme = "http://";
  if (text.rfind(scheme, 0) != 0) return false;
  std::string rest = text.substr(scheme.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  url->target = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t colon = authority.rfind(':');
  url->host = colon == std::string::npos ? authority : authority.substr(0, colon);
  url->port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  // A base URL (with or without a --root-path prefix) gets the completions path appended.
  const std::string completions = "/v1/completions";
  if (url->target.size() < completions.size() ||
      url->target.compare(url->target.size() - completions.size(), completions.size(),
                          completions) != 0) {
    while (!url->target.empty() && url->target.back() == '/') url->target.pop_back();
    url->target += completions;
  }
  return !url->host.empty();
}

}  // namespace

int main(int argc, char** argv) {
  std::string url_text = EnvOr("LANTERN_URL", "http://localhost:8000");
  std::string prompt = EnvOr("LANTERN_PROMPT", "San Francisco is a");
  std::string model = EnvOr("LANTERN_MODEL", "facebook/opt-125m");
  int max_tokens = 16;
  std::string otlp_endpoint;
  bool console = true;
  CLI::App app{"Send one traced completion request to a lantern server", "lantern_dummy_client"};
  app.add_option("--url", url_text,
                 "Server base URL; /v1/completions is appended (env LANTERN_URL)");
  app.add_option("--prompt", prompt, "Prompt text (env LANTERN_PROMPT)");
  app.add_option("--model", model, "Model name in the request (env LANTERN_MODEL)");
  app.add_option("--max-tokens", max_tokens, "Tokens to generate")->check(CLI::Range(1, 1 << 20));
  app.add_option("--otlp-traces-endpoint", otlp_endpoint,
                 "OTLP endpoint (default: from OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT)");
  app.add_flag("--console,!--no-console", console, "Also print spans to standard output");
  CLI11_PARSE(app, argc, argv);
  Url url;
  if (!ParseUrl(url_text, &url)) {
    std::fprintf(stderr, "lantern_dummy_client: --url must be http://host[:port][/path], got %s\n",
                 url_text.c_str());
    return 2;
  }

  lantern::telemetry::TelemetryOptions options;
  options.otlp_traces_endpoint = otlp_endpoint;
  options.default_service_name = "client-service";
  if (console) {
    options.extra_exporters.push_back(std::make_unique<lantern::telemetry::ConsoleSpanExporter>());
  }
  auto config = lantern::telemetry::Init(std::move(options));
  if (!config.ok()) {
    std::fprintf(stderr, "lantern_dummy_client: %s\n", config.status().message().c_str());
    return 1;
  }

  int exit_code = 0;
  {
    lantern::telemetry::Span span =
        lantern::telemetry::tracer("dummy-client")
            .StartSpan("client-span", lantern::telemetry::SpanKind::kClient);
    span.SetAttribute("prompt", prompt);
    lantern::telemetry::MapCarrier carrier;
    lantern::telemetry::Context context;
    context.span_context = span.context();
    lantern::telemetry::GlobalPropagator().Inject(context, carrier);

    nlohmann::json payload = {{"model", model}, {"prompt", prompt}, {"max_tokens", max_tokens}};
    http::request<http::string_body> request{http::verb::post, url.target, 11};
    request.set(http::field::host, url.host + ":" + url.port);
    request.set(http::field::user_agent, "lantern-dummy-client");
    request.set(http::field::content_type, "application/json");
    for (const auto& [name, value] : carrier.headers()) request.set(name, value);
    request.body() = payload.dump();
    request.prepare_payload();
    try {
      boost::asio::io_context io;
      beast::tcp_stream stream(io);
      stream.connect(tcp::resolver(io).resolve(url.host, url.port));
      http::write(stream, request);
      beast::flat_buffer buffer;
      http::response<http::string_body> response;
      http::read(stream, buffer, response);
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);

      const int status = static_cast<int>(response.result_int());
      span.SetAttribute("http.response.status_code", static_cast<int64_t>(status));
      if (status >= 400) {
        span.SetStatus(StatusCode::kError, "HTTP " + std::to_string(status));
        exit_code = 1;
      }
      // No traceparent when the client has no exporter (--no-console and no endpoint).
      std::string traceparent(carrier.Get("traceparent").value_or("(none: tracing is off)"));
      std::printf("traceparent: %s\n", traceparent.c_str());
      if (auto it = response.find("traceresponse"); it != response.end()) {
        std::printf("traceresponse: %s\n", std::string(it->value()).c_str());
      }
      std::printf("HTTP %d\n%s\n", status, response.body().c_str());
    } catch (const std::exception& e) {
      span.SetStatus(StatusCode::kError, e.what());
      std::fprintf(stderr, "lantern_dummy_client: %s: %s\n", url_text.c_str(), e.what());
      exit_code = 1;
    }
  }  // the span ends here; Init's exit handler flushes it
  lantern::telemetry::Shutdown(std::chrono::seconds(5));
  return exit_code;
}
