#include "server/router.h"

#include <atomic>
#include <mutex>
#include <optional>

#include "base/log.h"
#include "server/api_error.h"
#include "server/auth.h"
#include "server/request_log_context.h"
#include "telemetry/context.h"

namespace lantern::server {
namespace {

// Forwards to the transport's writer and reports status and end to an ExchangeObserver.
class ObservedWriter : public ResponseWriter {
 public:
  ObservedWriter(std::shared_ptr<ResponseWriter> inner, std::unique_ptr<ExchangeObserver> observer)
      : inner_(std::move(inner)), state_(std::make_shared<State>()) {
    state_->observer = std::move(observer);
    // The observer must hear of a client that leaves even if no handler asks; the callback
    // holds the shared state, never this writer, so it may outlive it.
    inner_->SetCancelCallback([state = state_] { state->Cancel(); });
  }
  ~ObservedWriter() override { state_->End(true); }

  void Send(HttpResponse response) override {
    state_->Status(response.status);
    state_->observer->AddResponseHeaders(response.headers);
    inner_->Send(std::move(response));
    state_->End(false);
  }
  void BeginStream(int status, std::string content_type, HeaderList headers) override {
    state_->Status(status);
    state_->observer->AddResponseHeaders(headers);
    inner_->BeginStream(status, std::move(content_type), std::move(headers));
  }
  bool WriteChunk(std::string data) override { return inner_->WriteChunk(std::move(data)); }
  void EndStream() override {
    inner_->EndStream();
    state_->End(false);
  }
  void SetCancelCallback(std::function<void()> callback) override {
    bool already;
    {
      std::lock_guard lock(state_->mu);
      already = state_->cancelled;
      if (!already) state_->callback = std::move(callback);
    }
    if (already && callback) callback();
  }
  bool cancelled() const override { return inner_->cancelled(); }
  bool started() const override { return inner_->started(); }
  const telemetry::Context* trace_context() const override {
    return state_->observer->trace_context();
  }

 private:
  struct State {
    void Cancel() {
      std::function<void()> to_call;
      {
        std::lock_guard lock(mu);
        cancelled = true;
        to_call = std::move(callback);
      }
      if (to_call) to_call();
      End(true);
    }
    void Status(int status) {
      if (!status_reported.exchange(true)) observer->OnStatus(status);
    }
    void End(bool client_gone) {
      if (!ended.exchange(true)) observer->OnEnd(client_gone);
    }
    std::unique_ptr<ExchangeObserver> observer;
    std::mutex mu;
    std::function<void()> callback;
    bool cancelled = false;
    std::atomic<bool> status_reported{false};
    std::atomic<bool> ended{false};
  };

  std::shared_ptr<ResponseWriter> inner_;
  std::shared_ptr<State> state_;
};

// Adds the CORS headers to the exchange's response, whatever answers it.
class CorsObserver : public ExchangeObserver {
 public:
  CorsObserver(std::shared_ptr<const CorsPolicy> policy, std::string_view origin)
      : policy_(std::move(policy)), origin_(origin) {}
  void AddResponseHeaders(HeaderList& headers) override {
    policy_->AddResponseHeaders(origin_, headers);
  }

 private:
  std::shared_ptr<const CorsPolicy> policy_;
  std::string origin_;
};

// Several observers of one exchange, told in order.
class ObserverList : public ExchangeObserver {
 public:
  explicit ObserverList(std::vector<std::unique_ptr<ExchangeObserver>> observers)
      : observers_(std::move(observers)) {}
  void OnStatus(int status) override {
    for (auto& o : observers_) o->OnStatus(status);
  }
  void OnEnd(bool client_gone) override {
    for (auto& o : observers_) o->OnEnd(client_gone);
  }
  void AddResponseHeaders(HeaderList& headers) override {
    for (auto& o : observers_) o->AddResponseHeaders(headers);
  }
  const telemetry::Context* trace_context() const override {
    for (const auto& o : observers_) {
      if (const telemetry::Context* context = o->trace_context()) return context;
    }
    return nullptr;
  }

 private:
  std::vector<std::unique_ptr<ExchangeObserver>> observers_;
};

}  // namespace

void RespondWithException(ResponseWriter& writer, std::exception_ptr error,
                          const std::string& context) {
  int status = 500;
  std::string message = "Internal server error";
  std::string param;
  try {
    std::rethrow_exception(error);
  } catch (const ApiError& e) {
    status = e.status();
    message = e.what();  // whole: ApiError escapes control characters (a NUL among them)
    param = e.param();
  } catch (const std::exception& e) {
    // The context (the request's path) and the message may carry client bytes.
    LANTERN_LOG(kError, "server") << EscapeControlCharacters(context + ": " + e.what());
  } catch (...) {
    LANTERN_LOG(kError, "server") << EscapeControlCharacters(context) << ": unknown exception";
  }
  if (!writer.started()) {
    HttpResponse response = ErrorResponse(status, message, param);
    if (status == 503) response.headers.emplace_back("Retry-After", "1");
    writer.Send(std::move(response));
    return;
  }
  // Mid-stream the status line is gone: report the error as OpenAI streams do, then the
  // terminator (as vLLM sends it), which clients read to the end of the stream for.
  writer.WriteChunk("data: " + ErrorBody(status, message, param) + "\n\n");
  writer.WriteChunk("data: [DONE]\n\n");
  writer.EndStream();
}

void Router::Add(const std::string& method, const std::string& path, Handler handler) {
  auto [route, added] = routes_.try_emplace(path);
  route->second[method] = std::move(handler);
  size_t open = path.rfind("/{");
  if (added && open != std::string::npos && path.back() == '}') {
    templates_.emplace_back(path.substr(0, open + 1), route);
  }
}

Router::Routes::const_iterator Router::Match(const std::string& path) const {
  auto exact = routes_.find(path);
  if (exact != routes_.end()) return exact;
  for (const auto& [prefix, route] : templates_) {
    if (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0) return route;
  }
  return routes_.end();
}

void Router::SetObserverFactory(ObserverFactory factory) {
  observer_factories_.clear();
  if (factory) observer_factories_.push_back(std::move(factory));
}

void Router::AddObserverFactory(ObserverFactory factory) {
  if (factory) observer_factories_.push_back(std::move(factory));
}

void Router::Handle(const HttpRequest& request, std::shared_ptr<ResponseWriter> writer) const {
  auto route = Match(request.path);
  const bool preflight = cors_ && CorsPolicy::IsPreflight(request);
  // Every line logged while handling the request carries its trace (issue 17): the
  // caller's traceparent, replaced by the HTTP span's ids once that span exists, so that
  // observers made after it (the access log) see those.
  std::optional<log::ScopedContext> log_context;
  if (log::Context caller = TraceParentLogContext(request); caller.valid()) {
    log_context.emplace(caller);
  }
  if (!observer_factories_.empty() || cors_) {
    static const std::string kNoRoute;
    const std::string& route_name = route == routes_.end() ? kNoRoute : route->first;
    std::unique_ptr<ExchangeObserver> observer;
    std::vector<std::unique_ptr<ExchangeObserver>> more;
    // A preflight carries its own CORS headers.
    if (cors_ && !preflight) {
      observer = std::make_unique<CorsObserver>(cors_, request.Header("origin"));
    }
    for (const auto& factory : observer_factories_) {
      auto next = factory(request, route_name);
      if (!next) continue;
      if (const telemetry::Context* trace = next->trace_context()) {
        log_context.reset();
        log_context.emplace(ToLogContext(trace->span_context));
      }
      if (observer) {
        more.push_back(std::move(next));
      } else {
        observer = std::move(next);
      }
    }
    if (!more.empty()) {
      more.insert(more.begin(), std::move(observer));
      observer = std::make_unique<ObserverList>(std::move(more));
    }
    if (observer) writer = std::make_shared<ObservedWriter>(std::move(writer), std::move(observer));
  }
  try {
    if (preflight) return writer->Send(cors_->Preflight(request));
    if (route == routes_.end()) {
      throw ApiError(404, "Route " + request.method + " " + request.path + " not found");
    }
    auto handler = route->second.find(request.method);
    // HEAD is answered wherever GET is (the transport drops the body).
    if (handler == route->second.end() && request.method == "HEAD") {
      handler = route->second.find("GET");
    }
    if (handler == route->second.end()) {
      std::string allow;
      for (const auto& [method, unused] : route->second) {
        allow += (allow.empty() ? "" : ", ") + method;
        if (method == "GET" && !route->second.contains("HEAD")) allow += ", HEAD";
      }
      HttpResponse response = ErrorResponse(405, "Method " + request.method + " not allowed on " +
                                                     request.path + " (allowed: " + allow + ")");
      response.headers.emplace_back("Allow", allow);
      writer->Send(std::move(response));
      return;
    }
    if (!api_key_.empty() && request.path.rfind("/v1/", 0) == 0 &&
        !BearerTokenMatches(request.Header("authorization"), api_key_)) {
      HttpResponse response = ErrorResponse(
          401, "Unauthorized: a valid API key is required (header 'Authorization: Bearer <key>')");
      response.headers.emplace_back("WWW-Authenticate", "Bearer");
      writer->Send(std::move(response));
      return;
    }
    handler->second(request, writer);
  } catch (...) {
    RespondWithException(*writer, std::current_exception(), request.method + " " + request.path);
  }
}

Handler Router::AsHandler() const {
  return [this](const HttpRequest& request, std::shared_ptr<ResponseWriter> writer) {
    const std::string& root = root_path_;
    if (!root.empty() && request.path.compare(0, root.size(), root) == 0 &&
        (request.path.size() == root.size() || request.path[root.size()] == '/')) {
      HttpRequest stripped = request;
      stripped.path = request.path.size() == root.size() ? "/" : request.path.substr(root.size());
      std::string rest = request.target.substr(root.size());
      // "/llm?x" -> "/?x"; built anew (GCC 12 misreads an insert at 0 as overlapping).
      stripped.target = (rest.empty() || rest[0] != '/') ? "/" + rest : rest;
      return Handle(stripped, std::move(writer));
    }
    Handle(request, std::move(writer));
  };
}

}  // namespace lantern::server
