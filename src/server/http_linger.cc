// Connection::LingeringClose: closing a socket whose receive queue still holds bytes makes
// the kernel answer with a reset, which can destroy the response sent just before it (the
// client's read fails with ECONNRESET, or its write with EPIPE, before it reads the status).
// So a connection that refused a request it did not read (413 on a large upload) first
// half-closes, then reads and drops what the client still sends until it stops, the
// client's own close, or a bound, and only then closes.
#include <array>
#include <memory>

#include "server/http_connection.h"

namespace lantern::server::http_internal {
namespace {

// nginx lingers up to 30 s; a client that has the status stops within a round trip, and a
// bounded budget keeps a client that never stops from holding the connection.
constexpr auto kLingerTime = std::chrono::seconds(5);
constexpr size_t kMaxDiscardBytes = size_t{256} << 20;

}  // namespace

void Connection::LingeringClose() {
  if (!socket_.is_open()) return;
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);  // the client reads EOF after the answer
  ArmTimer(std::chrono::duration_cast<std::chrono::milliseconds>(kLingerTime));
  DiscardInput(0);
}

void Connection::DiscardInput(size_t discarded) {
  if (!socket_.is_open()) return;
  // What the parser had buffered is dropped too.
  buffer_.consume(buffer_.size());
  auto scratch = std::make_shared<std::array<char, 64 * 1024>>();
  socket_.async_read_some(asio::buffer(*scratch),
                          [self = shared_from_this(), scratch, discarded](error_code ec, size_t n) {
                            // EOF (the client closed), a reset, the linger timer (which cancels the
                            // read), or the byte bound: the input is drained or no longer worth
                            // waiting for.
                            if (ec || discarded + n > kMaxDiscardBytes) return self->Shutdown();
                            self->DiscardInput(discarded + n);
                          });
}

}  // namespace lantern::server::http_internal
