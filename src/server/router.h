// Routes requests to handlers by method and path, checks the API key, and is the one
// error boundary of the server: an ApiError becomes its JSON error response, anything
// else a generic 500 that leaks nothing (the details go to the log).
#pragma once

#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "server/cors.h"
#include "server/http_types.h"

namespace lantern::server {

// Sees each exchange from start to end (the hook for access logs and HTTP server spans).
class ExchangeObserver {
 public:
  virtual ~ExchangeObserver() = default;
  // Called once, when the response status is known (Send() or BeginStream()).
  virtual void OnStatus(int status) {}
  // Called once, when the exchange ends: response complete or client gone.
  virtual void OnEnd(bool client_gone) {}
  // Called once, just before the response head is sent: headers to add (traceresponse).
  virtual void AddResponseHeaders(HeaderList& headers) {}
  // The exchange's trace context (see ResponseWriter::trace_context); null: none.
  virtual const telemetry::Context* trace_context() const { return nullptr; }
};

class Router {
 public:
  // `route` is the matched route template ("/v1/completions"), or "" when none matched.
  using ObserverFactory = std::function<std::unique_ptr<ExchangeObserver>(
      const HttpRequest&, const std::string& route)>;

  // `path` is exact ("/v1/models"), or a template whose last segment is a parameter
  // ("/v1/models/{model}"), which matches any non-empty rest of the path ('/' included:
  // model names such as "org/name"); the handler reads the value from the request's path.
  // Exact paths win over templates. Observers get the template, never the concrete path.
  // A HEAD request without a HEAD route runs the GET handler (the transport drops the body).
  void Add(const std::string& method, const std::string& path, Handler handler);
  // When set, every path under /v1/ needs "Authorization: Bearer <key>" (as in vLLM).
  void SetApiKey(std::string api_key) { api_key_ = std::move(api_key); }
  const std::string& api_key() const { return api_key_; }
  // Answers CORS preflights before routing and authentication (a browser sends them
  // without credentials) and adds Access-Control-Allow-Origin to every response.
  void SetCors(CorsOptions options) {
    cors_ = std::make_shared<const CorsPolicy>(std::move(options));
  }
  // vLLM's --root-path: the API may also be reached under this prefix ("/llm"), which a
  // proxy forwarding "/llm/v1/models" left on the path.
  void SetRootPath(std::string prefix) { root_path_ = std::move(prefix); }
  // Replaces the observer factories with this one.
  void SetObserverFactory(ObserverFactory factory);
  // Adds a factory: each exchange gets an observer from every factory that returns one
  // (a factory returns null for exchanges it does not observe), called in order.
  void AddObserverFactory(ObserverFactory factory);

  void Handle(const HttpRequest& request, std::shared_ptr<ResponseWriter> writer) const;
  // A Handler for HttpServer that routes through this (which must outlive the server).
  Handler AsHandler() const;

 private:
  using Routes = std::map<std::string, std::map<std::string, Handler>>;  // path -> method -> ...
  Routes::const_iterator Match(const std::string& path) const;

  Routes routes_;
  std::vector<std::pair<std::string, Routes::const_iterator>> templates_;  // prefix, route
  std::string api_key_;
  std::shared_ptr<const CorsPolicy> cors_;
  std::string root_path_;
  std::vector<ObserverFactory> observer_factories_;
};

// Answers `writer` with the error that `error` holds: ApiError -> its status and message;
// anything else -> 500 "Internal server error" (logged with `context`). If a stream had
// already begun, an SSE error event and `data: [DONE]` are written and the stream ended
// instead. Use it in
// every asynchronous callback that can fail, so that errors keep one shape.
void RespondWithException(ResponseWriter& writer, std::exception_ptr error,
                          const std::string& context);

}  // namespace lantern::server
