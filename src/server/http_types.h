// The transport-neutral view of one HTTP exchange that handlers see: a parsed request and
// a ResponseWriter that answers it once (a full response) or as a chunked stream (SSE).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lantern::telemetry {
struct Context;
}

namespace lantern::server {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: path plus query
  std::string path;    // target without the query string
  HeaderList headers;  // names lower-cased
  std::string body;
  std::string client_address;
  int client_port = 0;
  std::string server_address;  // the local end of the connection
  int server_port = 0;
  int http_version = 11;  // 10 or 11
  bool keep_alive = true;

  // The value of the first header named `name` (lower-case), or "" when absent.
  std::string_view Header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  HeaderList headers;  // extra headers (e.g. Retry-After, Allow)
  std::string body;
};

// Answers one request. Every method is thread-safe and may be called from any thread (the
// engine's output callbacks write from the engine side); the transport serializes the work
// on the connection's own strand. Calls after the exchange ended are ignored.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;

  // Sends a complete response and ends the exchange.
  virtual void Send(HttpResponse response) = 0;
  // Starts a chunked response (headers only); follow with WriteChunk()s and EndStream().
  virtual void BeginStream(int status, std::string content_type, HeaderList headers = {}) = 0;
  // Queues one chunk of body. Returns false when the client is gone (nothing more to do).
  virtual bool WriteChunk(std::string data) = 0;
  virtual void EndStream() = 0;

  // `callback` runs at most once, when the client disconnects before the response is
  // complete (while the request waits in a queue or mid-stream). It runs on an I/O thread
  // and must only signal (e.g. abort an engine request), never block.
  virtual void SetCancelCallback(std::function<void()> callback) = 0;
  virtual bool cancelled() const = 0;
  // True once Send() or BeginStream() was called for this exchange.
  virtual bool started() const = 0;
  // The context of the exchange's HTTP server span, for the spans a handler starts under
  // it; null when the exchange is not traced. Lives as long as the writer.
  virtual const telemetry::Context* trace_context() const { return nullptr; }
};

using Handler = std::function<void(const HttpRequest&, std::shared_ptr<ResponseWriter>)>;

// The reason phrase of an HTTP status code ("Not Found"); "Unknown" for unlisted codes.
const char* StatusReason(int status);

}  // namespace lantern::server
