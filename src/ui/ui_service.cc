#include "ui/ui_service.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "server/api_error.h"
#include "server/auth.h"
#include "telemetry/ids.h"
#include "ui/api_json.h"
#include "ui/assets.h"

namespace lantern::ui {
namespace {

using server::HttpRequest;
using server::HttpResponse;
using server::ResponseWriter;
using Writer = std::shared_ptr<ResponseWriter>;

constexpr std::string_view kApiPrefix = "/ui/api/";

HttpResponse WithSecurityHeaders(HttpResponse response) {
  for (auto& header : UiSecurityHeaders()) response.headers.push_back(std::move(header));
  return response;
}

HttpResponse Json(int status, std::string body) {
  HttpResponse response{status, "application/json", {}, std::move(body)};
  response.headers.emplace_back("Cache-Control", "no-store");
  return WithSecurityHeaders(std::move(response));
}

HttpResponse Error(int status, const std::string& message) {
  HttpResponse response = server::ErrorResponse(status, message);
  response.headers.emplace_back("Cache-Control", "no-store");
  return WithSecurityHeaders(std::move(response));
}

std::string_view Query(const HttpRequest& request) {
  size_t q = request.target.find('?');
  return q == std::string::npos ? std::string_view()
                                : std::string_view(request.target).substr(q + 1);
}

void SendAsset(std::string_view name, ResponseWriter& writer) {
  const EmbeddedAsset* asset = FindAsset(name);
  if (asset == nullptr) {
    writer.Send(Error(404, "No such file in the viewer: " + std::string(name)));
    return;
  }
  HttpResponse response{200, std::string(AssetContentType(name)), {}, std::string(asset->data)};
  response.headers.emplace_back("Cache-Control", "no-cache");
  writer.Send(WithSecurityHeaders(std::move(response)));
}

}  // namespace

server::HeaderList UiSecurityHeaders() {
  return {{"Content-Security-Policy",
           "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
           "form-action 'self'; frame-ancestors 'none'"},
          {"X-Content-Type-Options", "nosniff"},
          {"X-Frame-Options", "DENY"},
          {"Referrer-Policy", "no-referrer"},
          {"Cross-Origin-Resource-Policy", "same-origin"}};
}

UiService::UiService(UiOptions options, std::shared_ptr<const TraceRing> ring,
                     const server::MetricsRegistry* registry)
    : options_(std::move(options)), ring_(std::move(ring)), registry_(registry) {}

void UiService::Register(server::Router& router) const {
  router.Add("GET", "/ui", [](const HttpRequest&, Writer w) {
    HttpResponse response{308, "text/plain; charset=utf-8", {{"Location", "/ui/"}}, ""};
    w->Send(WithSecurityHeaders(std::move(response)));
  });
  router.Add("GET", "/ui/", [](const HttpRequest&, Writer w) { SendAsset("index.html", *w); });
  // Templates match in the order added: the API's before the files'.
  for (const char* what : {"traces", "traces/{trace_id}", "metrics", "config"}) {
    const std::string name = what;
    router.Add("GET", std::string(kApiPrefix) + name,
               [this, name](const HttpRequest& r, Writer w) { Api(r, *w, name); });
  }
  router.Add("GET", "/ui/{file}", [](const HttpRequest& r, Writer w) {
    SendAsset(std::string_view(r.path).substr(4), *w);
  });
}

void UiService::Api(const HttpRequest& request, ResponseWriter& writer,
                    const std::string& what) const {
  if (!options_.api_key.empty() &&
      !server::BearerTokenMatches(request.Header("authorization"), options_.api_key)) {
    HttpResponse response = Error(
        401, "Unauthorized: a valid API key is required (header 'Authorization: Bearer <key>')");
    response.headers.emplace_back("WWW-Authenticate", "Bearer");
    writer.Send(std::move(response));
    return;
  }
  if (what == "traces") {
    writer.Send(Json(200, TracesJson(*ring_, ParseTraceFilter(Query(request)))));
  } else if (what == "traces/{trace_id}") {
    std::string_view id = std::string_view(request.path).substr(kApiPrefix.size() + 7);
    std::optional<std::string> otlp = TraceOtlpJson(*ring_, id);
    if (!otlp) {
      writer.Send(Error(404, "Trace " + std::string(id.substr(0, 64)) +
                                 " is not in the viewer's memory (unknown, not sampled, or "
                                 "evicted by newer traces)"));
      return;
    }
    writer.Send(Json(200, std::move(*otlp)));
  } else if (what == "metrics") {
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    writer.Send(Json(200, MetricsSnapshotJson(registry_->RenderPrometheus(), now_ms)));
  } else {
    std::optional<telemetry::TraceId> startup = ring_->startup_trace();
    nlohmann::json config = {
        {"version", options_.version},
        {"trace_url", options_.trace_url},
        {"trace_content", options_.trace_content},
        {"detailed_traces", options_.detailed_traces},
        {"startup_trace_id", startup ? nlohmann::json(telemetry::ToHex(*startup)) : nullptr},
        {"max_traces", ring_->options().max_traces},
        {"max_bytes", ring_->options().max_bytes}};
    writer.Send(Json(200, config.dump()));
  }
}

}  // namespace lantern::ui
