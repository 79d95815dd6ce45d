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
#include "server/api_error.h"

namespace lantern::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

class Connection;

// What the server and all its connections share.
struct SharedState {
  HttpServerOptions options;
  Handler handler;
  std::atomic<bool> stopping{false};
  std::atomic<size_t> active_exchanges{0};
  std::mutex mu;
  std::unordered_map<const Connection*, std::weak_ptr<Connection>> connections;
};

std::string Lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string SerializeHead(int status, std::string_view content_type, const HeaderList& headers,
                          bool keep_alive, std::optional<size_t> content_length) {
  std::string head;
  head.reserve(256);
  head += "HTTP/1.1 ";
  head += std::to_string(status);
  head += ' ';
  head += StatusReason(status);
  head += "\r\nServer: lantern\r\nContent-Type: ";
  head += content_type;
  if (content_length) {
    head += "\r\nContent-Length: ";
    head += std::to_string(*content_length);
  } else {
    head += "\r\nTransfer-Encoding: chunked";
  }
  head += keep_alive ? "\r\nConnection: keep-alive" : "\r\nConnection: close";
  for (const auto& [name, value] : headers) {
    head += "\r\n";
    head += name;
    head += ": ";
    head += value;
  }
  head += "\r\n\r\n";
  return head;
}

// The ResponseWriter of one exchange: forwards each call onto the connection's strand,
// tagged with the exchange id so that late calls from a finished exchange are dropped.
class ExchangeWriter : public ResponseWriter {
 public:
  ExchangeWriter(std::shared_ptr<Connection> connection, uint64_t id)
      : connection_(std::move(connection)), id_(id) {}

  void Send(HttpResponse response) override;
  void BeginStream(int status, std::string content_type, HeaderList headers) override;
  bool WriteChunk(std::string data) override;
  void EndStream() override;

  void SetCancelCallback(std::function<void()> callback) override {
    {
      std::lock_guard lock(mu_);
      if (!cancelled_) {
        cancel_callback_ = std::move(callback);
        return;
      }
    }
    if (callback) callback();  // the client left before the callback was set
  }
  bool cancelled() const override { return cancelled_.load(std::memory_order_acquire); }
  bool started() const override { return started_.load(std::memory_order_acquire); }

  // On the strand: the client went away before the response was complete.
  void Cancel() {
    std::function<void()> callback;
    {
      std::lock_guard lock(mu_);
      if (cancelled_) return;
      cancelled_ = true;
      callback = std::move(cancel_callback_);
    }
    if (callback) callback();
  }

 private:
  std::shared_ptr<Connection> connection_;
  const uint64_t id_;
  std::mutex mu_;
  std::function<void()> cancel_callback_;
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> started_{false};
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<SharedState> state)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), state_(std::move(state)) {}

  ~Connection() {
    std::lock_guard lock(state_->mu);
    state_->connections.erase(this);
  }

  void Start() {
    error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);
    auto endpoint = socket_.remote_endpoint(ec);
    if (!ec) {
      client_address_ = endpoint.address().to_string();
      client_port_ = endpoint.port();
    }
    auto local = socket_.local_endpoint(ec);
    if (!ec) {
      server_address_ = local.address().to_string();
      server_port_ = local.port();
    }
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->ReadRequest(); });
  }

  // Graceful shutdown: an idle connection closes now, a busy one after its exchange.
  void CloseWhenIdle() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      self->closing_ = true;
      if (!self->exchange_open_) self->Shutdown();
    });
  }

  void ForceClose() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      if (self->exchange_open_) self->ClientGone();
      self->Shutdown();
    });
  }

  // --- ResponseWriter calls, run on the strand ---
  template <typename F>
  void OnStrand(F&& f) {
    asio::post(socket_.get_executor(), std::forward<F>(f));
  }

  void DoSend(uint64_t id, HttpResponse& response) {
    if (!Current(id) || response_started_) return;
    response_started_ = response_done_ = true;
    if (closing_ || state_->stopping) keep_alive_ = false;
    std::string out = SerializeHead(response.status, response.content_type, response.headers,
                                    keep_alive_, response.body.size());
    out += response.body;
    QueueOutput(std::move(out));
  }

  void DoBeginStream(uint64_t id, int status, const std::string& content_type,
                     const HeaderList& headers) {
    if (!Current(id) || response_started_) return;
    response_started_ = streaming_ = true;
    QueueOutput(SerializeHead(status, content_type, headers, keep_alive_, std::nullopt));
  }

  void DoWriteChunk(uint64_t id, std::string& data) {
    if (!Current(id) || !streaming_ || response_done_ || data.empty()) return;
    char size[24];
    int n = std::snprintf(size, sizeof(size), "%zx\r\n", data.size());
    std::string out;
    out.reserve(n + data.size() + 2);
    out.append(size, n);
    out += data;
    out += "\r\n";
    QueueOutput(std::move(out));
  }

  void DoEndStream(uint64_t id) {
    if (!Current(id) || !streaming_ || response_done_) return;
    response_done_ = true;
    QueueOutput("0\r\n\r\n");
  }

 private:
  bool Current(uint64_t id) const { return exchange_open_ && id == exchange_id_ && !gone_; }

  // --- timers: one per connection, guarding whichever read or write is outstanding ---
  void ArmTimer(std::chrono::milliseconds timeout) {
    timed_out_ = false;
    uint64_t generation = ++timer_generation_;
    timer_.expires_after(timeout);
    timer_.async_wait([self = shared_from_this(), generation](error_code ec) {
      if (ec || generation != self->timer_generation_) return;
      self->timed_out_ = true;
      error_code ignored;
      self->socket_.cancel(ignored);
    });
  }
  void DisarmTimer() {
    ++timer_generation_;
    timer_.cancel();
  }

  // --- reading a request ---
  void ReadRequest() {
    if (closing_ || state_->stopping || !socket_.is_open()) return Shutdown();
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(state_->options.max_header_bytes));
    parser_->body_limit(state_->options.max_body_bytes);
    if (buffer_.size() > 0) return ReadHeader();
    // Idle keep-alive: wait for the first byte without a parser deadline.
    ArmTimer(state_->options.keep_alive_timeout);
    socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](error_code ec) {
      self->DisarmTimer();
      if (ec || self->closing_) return self->Shutdown();
      self->ReadHeader();
    });
  }

  void ReadHeader() {
    ArmTimer(state_->options.request_timeout);
    http::async_read_header(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(error_code ec) {
    if (ec) return OnReadError(ec);
    const auto& header = parser_->get();
    auto expect = header[http::field::expect];
    if (!parser_->is_done() && Lowercase(expect) == "100-continue") {
      auto self = shared_from_this();
      auto interim = std::make_shared<std::string>("HTTP/1.1 100 Continue\r\n\r\n");
      asio::async_write(socket_, asio::buffer(*interim), [self, interim](error_code ec, size_t) {
        if (ec) return self->OnReadError(ec);
        self->ReadBody();
      });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (parser_->is_done()) {
      DisarmTimer();
      return Dispatch();
    }
    http::async_read(socket_, buffer_, *parser_,
                     [self = shared_from_this()](error_code ec, size_t) {
                       self->DisarmTimer();
                       if (ec) return self->OnReadError(ec);
                       self->Dispatch();
                     });
  }

  void OnReadError(error_code ec) {
    DisarmTimer();
    if (timed_out_) return RejectAndClose(408, "the request did not arrive in time");
    if (ec == http::error::header_limit) {
      return RejectAndClose(431, "request headers exceed " +
                                     std::to_string(state_->options.max_header_bytes) + " bytes");
    }
    if (ec == http::error::body_limit) {
      return RejectAndClose(
          413, "request body exceeds " + std::to_string(state_->options.max_body_bytes) + " bytes");
    }
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == http::error::partial_message) {
      return Shutdown();
    }
    if (ec.category() == http::make_error_code(http::error::bad_target).category()) {
      return RejectAndClose(400, "malformed HTTP request: " + ec.message());
    }
    Shutdown();
  }

  // A transport-level rejection (before any handler ran); the connection closes after it.
  void RejectAndClose(int status, const std::string& message) {
    if (!socket_.is_open()) return;
    StartExchange();
    keep_alive_ = false;
    HttpResponse response = ErrorResponse(status, message);
    DoSend(exchange_id_, response);
  }

  void StartExchange() {
    ++exchange_id_;
    exchange_open_ = true;
    response_started_ = response_done_ = streaming_ = false;
    state_->active_exchanges.fetch_add(1, std::memory_order_relaxed);
  }

  void EndExchange() {
    if (!exchange_open_) return;
    exchange_open_ = false;
    writer_.reset();
    state_->active_exchanges.fetch_sub(1, std::memory_order_relaxed);
  }

  void Dispatch() {
    auto message = parser_->release();
    parser_.reset();
    HttpRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    request.path = request.target.substr(0, request.target.find('?'));
    for (const auto& field : message) {
      request.headers.emplace_back(Lowercase(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(message.body());
    request.client_address = client_address_;
    request.client_port = client_port_;
    request.server_address = server_address_;
    request.server_port = server_port_;
    request.http_version = static_cast<int>(message.version());
    request.keep_alive = message.keep_alive();

    StartExchange();
    keep_alive_ = request.keep_alive;
    writer_ = std::make_shared<ExchangeWriter>(shared_from_this(), exchange_id_);
    auto writer = writer_;
    try {
      state_->handler(request, writer);
    } catch (const std::exception& e) {
      // The router is the error boundary; this is the last line of defence.
      LANTERN_LOG(kError, "http") << "handler threw for " << request.method << " " << request.path
                                  << ": " << e.what();
      if (!writer->started()) {
        writer->Send(ErrorResponse(500, "Internal server error"));
      } else {
        writer->EndStream();
      }
    }
    // Watch the socket while the answer is prepared: a client that leaves cancels it.
    if (exchange_open_) WatchForDisconnect();
  }

  // --- disconnect detection while an exchange is in progress ---
  void WatchForDisconnect() {
    if (watching_ || !socket_.is_open()) return;
    watching_ = true;
    socket_.async_wait(tcp::socket::wait_read,
                       [self = shared_from_this()](error_code ec) { self->OnWatch(ec); });
  }

  void OnWatch(error_code ec) {
    watching_ = false;
    if (finish_pending_) {
      finish_pending_ = false;
      return AfterExchange();
    }
    if (!exchange_open_ || gone_) return;
    if (ec) return ClientGone();
    error_code read_ec;
    size_t available = socket_.available(read_ec);
    if (read_ec || available == 0) return ClientGone();  // readable with nothing: EOF
    // A pipelined next request: keep its bytes for later (bounded by the header limit).
    size_t n = socket_.read_some(buffer_.prepare(available), read_ec);
    if (read_ec) return ClientGone();
    buffer_.commit(n);
    if (buffer_.size() <= state_->options.max_header_bytes) WatchForDisconnect();
  }

  void ClientGone() {
    if (gone_) return;
    gone_ = true;
    if (writer_) writer_->Cancel();
    EndExchange();
    Shutdown();
  }

  // --- writing ---
  void QueueOutput(std::string data) {
    if (gone_) return;
    if (pending_.empty()) {
      pending_ = std::move(data);
    } else {
      pending_ += data;
    }
    if (pending_.size() > state_->options.max_pending_write_bytes) {
      LANTERN_LOG(kWarning, "http") << "dropping client " << client_address_
                                    << ": it reads slower than its response is produced";
      return ClientGone();
    }
    if (!writing_) WriteNext();
  }

  void WriteNext() {
    if (pending_.empty()) {
      if (response_done_ && exchange_open_) FinishExchange();
      return;
    }
    writing_ = true;
    inflight_.swap(pending_);
    pending_.clear();
    ArmTimer(state_->options.write_timeout);
    asio::async_write(socket_, asio::buffer(inflight_),
                      [self = shared_from_this()](error_code ec, size_t) {
                        self->DisarmTimer();
                        self->writing_ = false;
                        self->inflight_.clear();
                        if (ec) return self->ClientGone();
                        self->WriteNext();
                      });
  }

  void FinishExchange() {
    EndExchange();
    if (watching_) {
      // Stop watching first; the watch's completion continues with AfterExchange().
      finish_pending_ = true;
      error_code ignored;
      socket_.cancel(ignored);
      return;
    }
    AfterExchange();
  }

  void AfterExchange() {
    if (!keep_alive_ || closing_ || state_->stopping) return Shutdown();
    ReadRequest();
  }

  void Shutdown() {
    if (!socket_.is_open()) return;
    DisarmTimer();
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  std::shared_ptr<SharedState> state_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string client_address_;
  int client_port_ = 0;
  std::string server_address_;
  int server_port_ = 0;

  uint64_t timer_generation_ = 0;
  bool timed_out_ = false;
  bool closing_ = false;

  // The exchange in progress.
  uint64_t exchange_id_ = 0;
  bool exchange_open_ = false;
  bool keep_alive_ = true;
  bool response_started_ = false;
  bool response_done_ = false;
  bool streaming_ = false;
  bool watching_ = false;
  bool finish_pending_ = false;
  bool gone_ = false;
  std::shared_ptr<ExchangeWriter> writer_;

  std::string pending_;   // queued output
  std::string inflight_;  // output being written
  bool writing_ = false;
};

void ExchangeWriter::Send(HttpResponse response) {
  if (started_.exchange(true)) return;
  connection_->OnStrand(
      [c = connection_, id = id_, r = std::move(response)]() mutable { c->DoSend(id, r); });
}

void ExchangeWriter::BeginStream(int status, std::string content_type, HeaderList headers) {
  if (started_.exchange(true)) return;
  connection_->OnStrand([c = connection_, id = id_, status, ct = std::move(content_type),
                         h = std::move(headers)] { c->DoBeginStream(id, status, ct, h); });
}

bool ExchangeWriter::WriteChunk(std::string data) {
  if (cancelled()) return false;
  connection_->OnStrand(
      [c = connection_, id = id_, d = std::move(data)]() mutable { c->DoWriteChunk(id, d); });
  return true;
}

void ExchangeWriter::EndStream() {
  connection_->OnStrand([c = connection_, id = id_] { c->DoEndStream(id); });
}

}  // namespace

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
