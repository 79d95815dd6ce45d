#include "server/http_connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <utility>
#include <vector>

#include "base/log.h"
#include "server/api_error.h"

namespace lantern::server::http_internal {

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

void Connection::Start() {
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

void Connection::CloseWhenIdle() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->closing_ = true;
    if (!self->exchange_open_) self->Shutdown();
  });
}

void Connection::ForceClose() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (self->exchange_open_) self->ClientGone();
    self->Shutdown();
  });
}

void Connection::DoSend(uint64_t id, HttpResponse& response) {
  if (!Current(id) || response_started_) return;
  response_started_ = response_done_ = true;
  if (closing_ || state_->stopping) keep_alive_ = false;
  std::string out = SerializeHead(response.status, response.content_type, response.headers,
                                  keep_alive_, response.body.size());
  if (!head_request_) out += response.body;  // HEAD: the same headers, no body
  QueueOutput(std::move(out));
}

void Connection::DoBeginStream(uint64_t id, int status, const std::string& content_type,
                               const HeaderList& headers) {
  if (!Current(id) || response_started_) return;
  response_started_ = streaming_ = true;
  if (head_request_) response_done_ = true;  // HEAD: the head only, chunks are dropped
  QueueOutput(SerializeHead(status, content_type, headers, keep_alive_, std::nullopt));
}

void Connection::DoWriteChunk(uint64_t id, std::string& data) {
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

void Connection::DoEndStream(uint64_t id) {
  if (!Current(id) || !streaming_ || response_done_) return;
  response_done_ = true;
  QueueOutput("0\r\n\r\n");
}

void Connection::ArmTimer(std::chrono::milliseconds timeout) {
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

void Connection::ReadRequest() {
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

void Connection::ReadHeader() {
  ArmTimer(state_->options.request_timeout);
  http::async_read_header(
      socket_, buffer_, *parser_,
      [self = shared_from_this()](error_code ec, size_t) { self->OnHeader(ec); });
}

namespace {

// RFC 9112's framing and Host rules for a request's header (Beast already refuses a
// Transfer-Encoding together with a Content-Length, and conflicting lengths). Returns the
// status and message to reject it with (the connection then closes, so that what follows
// is never read as a next request), or status 0 when the header is acceptable.
std::pair<int, std::string> CheckRequestHeader(
    const http::request_parser<http::string_body>& parser) {
  const auto& header = parser.get();
  auto [te_begin, te_end] = header.equal_range(http::field::transfer_encoding);
  if (te_begin != te_end) {
    std::vector<std::string> codings;
    for (auto it = te_begin; it != te_end; ++it) {
      std::string_view value = it->value();
      while (!value.empty()) {
        size_t comma = value.find(',');
        std::string_view item = value.substr(0, comma);
        value = comma == std::string_view::npos ? std::string_view{} : value.substr(comma + 1);
        item = item.substr(0, item.find(';'));  // transfer parameters
        while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
          item.remove_prefix(1);
        while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
        if (!item.empty()) codings.push_back(Lowercase(item));
      }
    }
    if (header.version() < 11) {
      return {400, "Transfer-Encoding is not allowed in an HTTP/1.0 request"};
    }
    if (codings.empty() || codings.back() != "chunked" || !parser.chunked()) {
      return {400, "the request's final transfer coding must be 'chunked' (RFC 9112 section 6.3)"};
    }
    if (codings.size() > 1) {
      return {501, "unsupported transfer coding '" + codings.front() + "' (only 'chunked' is)"};
    }
  }
  size_t hosts = header.count(http::field::host);
  if (hosts > 1) return {400, "the request has more than one Host header"};
  if (hosts == 0 && header.version() >= 11) {
    return {400, "an HTTP/1.1 request needs a Host header"};
  }
  return {0, {}};
}

}  // namespace

void Connection::OnHeader(error_code ec) {
  if (ec) return OnReadError(ec);
  if (auto [status, message] = CheckRequestHeader(*parser_); status != 0) {
    DisarmTimer();
    return RejectAndClose(status, message);
  }
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

void Connection::ReadBody() {
  if (parser_->is_done()) {
    DisarmTimer();
    return Dispatch();
  }
  http::async_read(socket_, buffer_, *parser_, [self = shared_from_this()](error_code ec, size_t) {
    self->DisarmTimer();
    if (ec) return self->OnReadError(ec);
    self->Dispatch();
  });
}

void Connection::OnReadError(error_code ec) {
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

void Connection::RejectAndClose(int status, const std::string& message) {
  if (!socket_.is_open()) return;
  StartExchange();
  keep_alive_ = false;
  linger_ = status != 408;  // a client too slow to send in time gets no more time
  HttpResponse response = ErrorResponse(status, message);
  DoSend(exchange_id_, response);
}

void Connection::StartExchange() {
  ++exchange_id_;
  exchange_open_ = true;
  response_started_ = response_done_ = streaming_ = head_request_ = false;
  state_->active_exchanges.fetch_add(1, std::memory_order_relaxed);
}

void Connection::EndExchange() {
  if (!exchange_open_) return;
  exchange_open_ = false;
  writer_.reset();
  state_->active_exchanges.fetch_sub(1, std::memory_order_relaxed);
}

void Connection::Dispatch() {
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
  head_request_ = request.method == "HEAD";
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

void Connection::WatchForDisconnect() {
  if (watching_ || !socket_.is_open()) return;
  watching_ = true;
  socket_.async_wait(tcp::socket::wait_read,
                     [self = shared_from_this()](error_code ec) { self->OnWatch(ec); });
}

void Connection::OnWatch(error_code ec) {
  watching_ = false;
  if (finish_pending_) {
    finish_pending_ = false;
    return AfterExchange();
  }
  if (!exchange_open_ || gone_) return;
  if (ec) return ClientGone();
  error_code read_ec;
  size_t available = socket_.available(read_ec);
  if (read_ec) return ClientGone();
  if (available == 0) {
    // Readiness can be stale: an edge-triggered event for bytes a speculative read already
    // consumed still wakes the wait. Only a peek that reads 0 bytes is the client's EOF.
    char byte;
    ssize_t peeked = ::recv(socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (peeked < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      return WatchForDisconnect();
    }
    if (peeked == 0) return PeerDoneSending();
    if (peeked < 0) return ClientGone();
    available = socket_.available(read_ec);
    if (read_ec || available == 0) return ClientGone();
  }
  // A pipelined next request: keep its bytes for later (bounded by the header limit).
  size_t n = socket_.read_some(buffer_.prepare(available), read_ec);
  if (read_ec) return ClientGone();
  buffer_.commit(n);
  if (buffer_.size() <= state_->options.max_header_bytes) WatchForDisconnect();
}

void Connection::PeerDoneSending() {
  // An EOF is either a half-close (shutdown(SHUT_WR) after the request, as `nc -N` and some
  // proxies do: the client still reads the answer) or a client that left. Only data sent to
  // it tells them apart: a closed socket answers data with a reset. So the request keeps
  // running, no further request is read, and the peer is probed until the answer starts.
  keep_alive_ = false;
  if (!response_started_) ProbePeer(0);
}

void Connection::ProbePeer(int tick) {
  if (!exchange_open_ || gone_ || response_started_ || !socket_.is_open()) return;
  // One byte of urgent data: it draws a reset from a closed socket, and a reader that has
  // not asked for out-of-band data (SO_OOBINLINE off, every HTTP client) never sees it.
  if (tick % 10 == 0) {
    char probe = 0;
    ::send(socket_.native_handle(), &probe, 1, MSG_OOB | MSG_DONTWAIT | MSG_NOSIGNAL);
  }
  tcp_info info{};
  socklen_t length = sizeof(info);
  if (::getsockopt(socket_.native_handle(), IPPROTO_TCP, TCP_INFO, &info, &length) != 0 ||
      info.tcpi_state == TCP_CLOSE) {
    return ClientGone();
  }
  probe_timer_.expires_after(std::chrono::milliseconds(100));
  probe_timer_.async_wait([self = shared_from_this(), tick](error_code ec) {
    if (!ec) self->ProbePeer(tick + 1);
  });
}

void Connection::ClientGone() {
  if (gone_) return;
  gone_ = true;
  if (writer_) writer_->Cancel();
  EndExchange();
  Shutdown();
}

void Connection::QueueOutput(std::string data) {
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

void Connection::WriteNext() {
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

void Connection::FinishExchange() {
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

void Connection::Shutdown() {
  if (!socket_.is_open()) return;
  DisarmTimer();
  probe_timer_.cancel();
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

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

}  // namespace lantern::server::http_internal
