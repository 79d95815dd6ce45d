// The HTTP/1.1 transport's internals: one Connection per socket (reading requests,
// writing responses and chunked streams on its strand, timeouts, disconnect watch) and the
// ExchangeWriter handlers answer through. Internal to http_server.cc and
// http_connection.cc.
#pragma once

#include <utility>  // before Boost.Asio, whose awaitable.hpp uses std::exchange

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "server/http_server.h"
#include "server/http_types.h"

namespace lantern::server::http_internal {

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

std::string Lowercase(std::string_view s);
// The status line and headers of a response (chunked when no content length).
std::string SerializeHead(int status, std::string_view content_type, const HeaderList& headers,
                          bool keep_alive, std::optional<size_t> content_length);

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<SharedState> state)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        probe_timer_(socket_.get_executor()),
        state_(std::move(state)) {}

  ~Connection() {
    std::lock_guard lock(state_->mu);
    state_->connections.erase(this);
  }

  void Start();

  // Graceful shutdown: an idle connection closes now, a busy one after its exchange.
  void CloseWhenIdle();

  void ForceClose();

  // --- ResponseWriter calls, run on the strand ---
  template <typename F>
  void OnStrand(F&& f) {
    asio::post(socket_.get_executor(), std::forward<F>(f));
  }

  void DoSend(uint64_t id, HttpResponse& response);

  void DoBeginStream(uint64_t id, int status, const std::string& content_type,
                     const HeaderList& headers);

  void DoWriteChunk(uint64_t id, std::string& data);

  void DoEndStream(uint64_t id);

 private:
  bool Current(uint64_t id) const { return exchange_open_ && id == exchange_id_ && !gone_; }

  // --- timers: one per connection, guarding whichever read or write is outstanding ---
  void ArmTimer(std::chrono::milliseconds timeout);
  void DisarmTimer() {
    ++timer_generation_;
    timer_.cancel();
  }

  // --- reading a request ---
  void ReadRequest();

  void ReadHeader();

  void OnHeader(error_code ec);

  void ReadBody();

  void OnReadError(error_code ec);

  // A transport-level rejection (before any handler ran); the connection closes after it.
  void RejectAndClose(int status, const std::string& message);

  void StartExchange();

  void EndExchange();

  void Dispatch();

  // --- disconnect detection while an exchange is in progress ---
  void WatchForDisconnect();

  void OnWatch(error_code ec);

  void ClientGone();

  // The client sent EOF after its request: answer it (a half-close) unless probing finds
  // that it left.
  void PeerDoneSending();
  void ProbePeer(int tick);

  // --- writing ---
  void QueueOutput(std::string data);

  void WriteNext();

  void FinishExchange();

  void AfterExchange() {
    if (!keep_alive_ || closing_ || state_->stopping)
      return linger_ ? LingeringClose() : Shutdown();
    ReadRequest();
  }

  // After a rejection sent while the client may still be sending its body (413): stop
  // sending, read and discard what still comes (bounded in bytes and time), then close, as
  // nginx's lingering_close does. Closing at once with unread input makes the kernel send a
  // reset, and the client sees a broken pipe instead of the status (http_linger.cc).
  void LingeringClose();
  void DiscardInput(size_t discarded);

  void Shutdown();

  tcp::socket socket_;
  asio::steady_timer timer_;
  asio::steady_timer probe_timer_;  // paces ProbePeer
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
  bool head_request_ = false;  // a HEAD request: the response goes without its body
  bool watching_ = false;
  bool finish_pending_ = false;
  bool gone_ = false;
  bool linger_ = false;  // close with LingeringClose (a request rejected unread)
  std::shared_ptr<ExchangeWriter> writer_;

  std::string pending_;   // queued output
  std::string inflight_;  // output being written
  bool writing_ = false;
};

}  // namespace lantern::server::http_internal
