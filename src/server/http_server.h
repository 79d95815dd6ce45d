// An asynchronous HTTP/1.1 server on Boost.Asio/Beast: a few I/O threads serve every
// connection (no thread per connection), with keep-alive, chunked streaming responses,
// limits on header and body size and read/idle/write timeouts (slow clients cannot hold
// a thread or grow memory). Handlers see only http_types.h.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "server/http_types.h"

namespace lantern::server {

struct HttpServerOptions {
  std::string host = "0.0.0.0";
  int port = 8000;  // 0 picks a free port (see HttpServer::port())
  int io_threads = 2;
  size_t max_header_bytes = 16 * 1024;        // beyond: 431
  size_t max_body_bytes = 16 * 1024 * 1024;   // beyond: 413
  size_t max_connections = 16384;             // beyond: the connection is refused
  size_t max_pending_write_bytes = 16 << 20;  // a client that reads slower is dropped
  // A connection waiting for the first byte of a request is closed after this long.
  std::chrono::milliseconds keep_alive_timeout{5000};
  // Once a request starts arriving, all of it must arrive within this (slow-loris: 408).
  std::chrono::milliseconds request_timeout{30000};
  // One write that makes no progress for this long drops the client.
  std::chrono::milliseconds write_timeout{60000};
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, Handler handler);
  ~HttpServer();  // Stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the I/O threads.
  Status Start();
  // The port actually bound (useful with port 0).
  int port() const;

  // Graceful shutdown, step one: closes the listening socket and idle connections; each
  // exchange in progress runs to its end and its connection then closes.
  void StopAccepting();
  // Exchanges (requests being answered) in progress, and open connections.
  size_t active_exchanges() const;
  size_t open_connections() const;
  // Runs `task` on an I/O thread (e.g. to move engine output off the engine thread).
  void Post(std::function<void()> task);
  // Closes every connection and joins the I/O threads. Idempotent.
  void Stop();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace lantern::server
