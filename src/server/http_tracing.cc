#include "server/http_tracing.h"

#include <atomic>
#include <cctype>
#include <mutex>
#include <optional>
#include <string_view>

#include "base/log.h"
#include "server/auth.h"
#include "telemetry/context.h"
#include "telemetry/propagation.h"
#include "telemetry/span.h"
#include "telemetry/tail_sampling.h"
#include "telemetry/trace_context.h"
#include "telemetry/tracer.h"

namespace lantern::server {
namespace {

using telemetry::AttributeValue;

// Reads propagation headers straight from the request (names are lower-cased there).
// Repeated headers (tracestate, baggage) are joined with ',' as HTTP allows.
class RequestCarrier : public telemetry::TextMapCarrier {
 public:
  explicit RequestCarrier(const HttpRequest& request) : request_(request) {}

  std::optional<std::string_view> Get(std::string_view key) const override {
    const std::string* first = nullptr;
    for (const auto& [name, value] : request_.headers) {
      if (!EqualsLower(name, key)) continue;
      if (first == nullptr) {
        first = &value;
        continue;
      }
      if (joined_.empty()) joined_ = *first;
      joined_ += ',';
      joined_ += value;
    }
    if (first == nullptr) return std::nullopt;
    if (!joined_.empty()) return std::string_view(joined_);
    return std::string_view(*first);
  }
  void Set(std::string_view, std::string_view) override {}

 private:
  static bool EqualsLower(std::string_view name, std::string_view key) {
    if (name.size() != key.size()) return false;
    for (size_t i = 0; i < name.size(); ++i) {
      if (name[i] != std::tolower(static_cast<unsigned char>(key[i]))) return false;
    }
    return true;
  }
  const HttpRequest& request_;
  mutable std::string joined_;
};

// Whether `request` raises itself to the detailed level (kTraceDetailHeader).
bool DetailRequested(const HttpRequest& request, const std::string& api_key) {
  std::string_view value = request.Header(kTraceDetailHeader);
  if (value.empty()) return false;
  if (!api_key.empty() && !BearerTokenMatches(request.Header("authorization"), api_key)) {
    LANTERN_LOG(kDebug, "tracing")
        << kTraceDetailHeader << " ignored: the request has no valid API key";
    return false;
  }
  std::string lower(value);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower != "detailed") {
    LANTERN_LOG(kDebug, "tracing")
        << kTraceDetailHeader << ": \"" << value << "\" is not a detail level (detailed); ignored";
    return false;
  }
  return true;
}

class HttpSpanObserver : public ExchangeObserver {
 public:
  HttpSpanObserver(const telemetry::Tracer& tracer, const HttpRequest& request,
                   const std::string& route, const std::string& api_key) {
    telemetry::Context parent =
        telemetry::GlobalPropagator().Extract(RequestCarrier(request), telemetry::Context{});
    context_.baggage = std::move(parent.baggage);
    telemetry::StartSpanOptions options;
    options.kind = telemetry::SpanKind::kServer;
    options.parent = std::move(parent.span_context);
    auto& a = options.attributes;
    a.reserve(11);
    a.push_back({"http.request.method", request.method});
    a.push_back({"url.path", request.path});
    a.push_back({"url.scheme", std::string("http")});
    if (!route.empty()) a.push_back({"http.route", route});
    ServerAuthority authority = RequestAuthority(request);
    if (!authority.address.empty()) a.push_back({"server.address", authority.address});
    if (authority.port > 0) a.push_back({"server.port", int64_t{authority.port}});
    if (!request.client_address.empty()) a.push_back({"client.address", request.client_address});
    if (request.client_port > 0) a.push_back({"client.port", int64_t{request.client_port}});
    a.push_back(
        {"network.protocol.version", std::string(request.http_version == 10 ? "1.0" : "1.1")});
    std::string_view agent = request.Header("user-agent");
    if (!agent.empty()) a.push_back({"user_agent.original", std::string(agent)});
    context_.detailed = DetailRequested(request, api_key);
    if (context_.detailed) {
      a.push_back({"lantern.trace.detail", std::string("detailed")});
      a.push_back({telemetry::kForceKeepAttribute, int64_t{1}});
    }
    span_ = tracer.StartSpan(route.empty() ? request.method : request.method + " " + route,
                             std::move(options));
    context_.span_context = span_.context();
    trace_response_ = FormatTraceResponse(context_.span_context);
  }

  void OnStatus(int status) override {
    std::lock_guard lock(mu_);
    span_.SetAttribute("http.response.status_code", int64_t{status});
    if (status >= 500) {
      span_.SetAttribute("error.type", std::to_string(status));
      span_.SetStatus(telemetry::StatusCode::kError);
      server_error_ = true;
    }
  }

  void OnEnd(bool client_gone) override {
    std::lock_guard lock(mu_);
    if (client_gone && !server_error_) {
      span_.SetAttribute("error.type", std::string("client_disconnected"));
      span_.SetStatus(telemetry::StatusCode::kError, "client disconnected");
    }
    span_.End();
  }

  void AddResponseHeaders(HeaderList& headers) override {
    if (!trace_response_.empty()) headers.emplace_back("traceresponse", trace_response_);
  }

  const telemetry::Context* trace_context() const override { return &context_; }

 private:
  std::mutex mu_;  // OnStatus and OnEnd may come from different threads
  telemetry::Span span_;
  bool server_error_ = false;
  telemetry::Context context_;  // immutable after construction
  std::string trace_response_;
};

void WarnTracingDisabled(const HttpRequest& request) {
  static std::atomic<bool> warned{false};
  if (warned.load(std::memory_order_relaxed)) return;
  if (request.Header("traceparent").empty()) return;
  if (warned.exchange(true)) return;
  LANTERN_LOG(kWarning, "tracing")
      << "received a request with a traceparent header, but tracing is disabled (start with "
         "--otlp-traces-endpoint or set OTEL_EXPORTER_OTLP_TRACES_ENDPOINT to trace requests)";
}

}  // namespace

Router::ObserverFactory MakeHttpTracingObserverFactory(std::string api_key) {
  return [tracer = telemetry::tracer("lantern.server"), api_key = std::move(api_key)](
             const HttpRequest& request,
             const std::string& route) -> std::unique_ptr<ExchangeObserver> {
    if (!tracer.Enabled()) {
      WarnTracingDisabled(request);
      return nullptr;
    }
    return std::make_unique<HttpSpanObserver>(tracer, request, route, api_key);
  };
}

std::string FormatTraceResponse(const telemetry::SpanContext& context) {
  if (!context.IsValid()) return {};
  return telemetry::FormatTraceParent(context);
}

ServerAuthority RequestAuthority(const HttpRequest& request) {
  ServerAuthority result{request.server_address, request.server_port};
  std::string_view host = request.Header("host");
  if (host.empty()) return result;
  std::string_view name = host;
  std::string_view port;
  if (host.front() == '[') {  // [IPv6]:port
    size_t close = host.find(']');
    if (close == std::string_view::npos) return result;
    name = host.substr(1, close - 1);
    if (close + 1 < host.size() && host[close + 1] == ':') port = host.substr(close + 2);
  } else if (size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    name = host.substr(0, colon);
    port = host.substr(colon + 1);
  }
  if (name.empty()) return result;
  result.address = std::string(name);
  int value = 0;
  bool valid = !port.empty() && port.size() <= 5;
  for (char c : port) {
    if (!std::isdigit(static_cast<unsigned char>(c))) valid = false;
    value = value * 10 + (c - '0');
  }
  // Without a port in Host the client used the scheme's default.
  result.port = valid ? value : (port.empty() ? 80 : result.port);
  return result;
}

}  // namespace lantern::server
