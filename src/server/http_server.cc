#include "server/http_server.h"

#include <pthread.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/log.h"
#include "server/http_connection.h"

namespace lantern::server {

using namespace http_internal;

struct HttpServer::Impl {
  explicit Impl(HttpServerOptions options, Handler handler)
      : io(options.io_threads), acceptor(io), retry_timer(io) {
    state = std::make_shared<SharedState>();
    state->options = std::move(options);
    state->handler = std::move(handler);
  }

  void Accept() {
    acceptor.async_accept(asio::make_strand(io), [this](error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (ec) {
        // E.g. out of file descriptors: back off instead of spinning.
        LANTERN_LOG(kWarning, "http") << "accept failed: " << ec.message();
        retry_timer.expires_after(std::chrono::milliseconds(50));
        retry_timer.async_wait([this](error_code wait_ec) {
          if (!wait_ec) Accept();
        });
        return;
      }
      bool full;
      {
        std::lock_guard lock(state->mu);
        full = state->connections.size() >= state->options.max_connections;
      }
      if (full) {
        error_code ignored;
        socket.close(ignored);
      } else {
        auto connection = std::make_shared<Connection>(std::move(socket), state);
        {
          std::lock_guard lock(state->mu);
          state->connections.emplace(connection.get(), connection);
        }
        connection->Start();
      }
      Accept();
    });
  }

  std::vector<std::shared_ptr<Connection>> LiveConnections() {
    std::vector<std::shared_ptr<Connection>> live;
    std::lock_guard lock(state->mu);
    for (auto& [key, weak] : state->connections) {
      if (auto c = weak.lock()) live.push_back(std::move(c));
    }
    return live;
  }

  asio::io_context io;
  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  std::shared_ptr<SharedState> state;
  std::vector<std::thread> threads;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  int bound_port = 0;
  bool stopped = false;
};

HttpServer::HttpServer(HttpServerOptions options, Handler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start() {
  const auto& options = impl_->state->options;
  error_code ec;
  auto address = asio::ip::make_address(options.host, ec);
  if (ec) return InvalidArgument("--host: '" + options.host + "' is not an IP address");
  tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Unavailable("cannot listen on " + options.host + ":" + std::to_string(options.port) +
                       ": " + ec.message());
  }
  impl_->bound_port = acceptor.local_endpoint().port();
  impl_->work.emplace(impl_->io.get_executor());
  impl_->Accept();
  for (int i = 0; i < std::max(1, options.io_threads); ++i) {
    impl_->threads.emplace_back([this, i] {
      std::string name = "lantern-http" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.c_str());
      impl_->io.run();
    });
  }
  return Status::Ok();
}

int HttpServer::port() const { return impl_->bound_port; }

void HttpServer::StopAccepting() {
  if (impl_->state->stopping.exchange(true)) return;
  asio::post(impl_->acceptor.get_executor(), [impl = impl_.get()] {
    error_code ignored;
    impl->acceptor.close(ignored);
    impl->retry_timer.cancel();
  });
  for (auto& connection : impl_->LiveConnections()) connection->CloseWhenIdle();
}

size_t HttpServer::active_exchanges() const {
  return impl_->state->active_exchanges.load(std::memory_order_relaxed);
}

size_t HttpServer::open_connections() const {
  std::lock_guard lock(impl_->state->mu);
  return impl_->state->connections.size();
}

void HttpServer::Post(std::function<void()> task) { asio::post(impl_->io, std::move(task)); }

void HttpServer::Stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  StopAccepting();
  for (auto& connection : impl_->LiveConnections()) connection->ForceClose();
  impl_->work.reset();
  // Give the forced closes a moment to run, then stop whatever is left.
  for (int i = 0; i < 100 && open_connections() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  impl_->io.stop();
  for (auto& thread : impl_->threads) thread.join();
  impl_->threads.clear();
}

}  // namespace lantern::server
