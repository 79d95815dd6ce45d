// The HTTP transport with real sockets: keep-alive, chunked streams, limits, timeouts,
// disconnect detection, and the router's error boundary.
#include "server/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "server/api_error.h"
#include "server/router.h"

namespace lantern::server {
namespace {

using namespace std::chrono_literals;

// A blocking client socket with a receive timeout, so a broken server fails the test
// instead of hanging it.
class Client {
 public:
  explicit Client(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      throw std::runtime_error("connect failed");
    }
  }
  ~Client() { Close(); }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  void Send(const std::string& data) {
    ASSERT_EQ(send(fd_, data.data(), data.size(), MSG_NOSIGNAL), (ssize_t)data.size());
  }

  // Reads until `marker` appears in what was read (or EOF/timeout); returns all read.
  std::string ReadUntil(const std::string& marker) {
    while (buffer_.find(marker) == std::string::npos) {
      if (!ReadSome()) break;
    }
    std::string out;
    size_t at = buffer_.find(marker);
    size_t end = at == std::string::npos ? buffer_.size() : at + marker.size();
    out = buffer_.substr(0, end);
    buffer_.erase(0, end);
    return out;
  }
  // One whole response with a Content-Length body.
  std::string ReadResponse() {
    std::string head = ReadUntil("\r\n\r\n");
    size_t at = head.find("Content-Length: ");
    if (at == std::string::npos) return head;
    size_t length = std::stoul(head.substr(at + 16));
    while (buffer_.size() < length && ReadSome()) {
    }
    std::string body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return head + body;
  }
  // True when the server closed the connection (EOF) within the receive timeout.
  bool SeesEof() {
    char c;
    return recv(fd_, &c, 1, 0) == 0;
  }

 private:
  bool ReadSome() {
    char chunk[4096];
    ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }
  int fd_ = -1;
  std::string buffer_;
};

int StatusOf(const std::string& response) {
  return response.size() > 12 ? std::stoi(response.substr(9, 3)) : 0;
}

std::string BodyOf(const std::string& response) {
  size_t at = response.find("\r\n\r\n");
  return at == std::string::npos ? "" : response.substr(at + 4);
}

class HttpServerTest : public testing::Test {
 protected:
  void SetUp() override {
    router_.Add("GET", "/hello", [](const HttpRequest& r, std::shared_ptr<ResponseWriter> w) {
      w->Send(HttpResponse{200, "text/plain", {}, "hello " + std::string(r.Header("x-name"))});
    });
    router_.Add("POST", "/echo", [](const HttpRequest& r, std::shared_ptr<ResponseWriter> w) {
      w->Send(HttpResponse{200, "text/plain", {}, r.body});
    });
    router_.Add("GET", "/throw", [](const HttpRequest&, std::shared_ptr<ResponseWriter>) {
      throw std::runtime_error("secret internal detail");
    });
    router_.Add("GET", "/bad", [](const HttpRequest&, std::shared_ptr<ResponseWriter>) {
      throw BadRequest("'x' must be positive", "x");
    });
    // Streams three chunks from another thread, like the engine does.
    router_.Add("GET", "/stream", [](const HttpRequest&, std::shared_ptr<ResponseWriter> w) {
      w->BeginStream(200, "text/event-stream");
      std::thread([w] {
        for (int i = 0; i < 3; ++i) w->WriteChunk("data: " + std::to_string(i) + "\n\n");
        w->EndStream();
      }).detach();
    });
    // Fails after its stream began: the router reports the error as an SSE event.
    router_.Add("GET", "/stream-fails", [](const HttpRequest&, std::shared_ptr<ResponseWriter> w) {
      w->BeginStream(200, "text/event-stream");
      w->WriteChunk("data: 0\n\n");
      throw ApiError(503, "The engine failed this request; please retry");
    });
    // Never answers: only a client that leaves ends it (through the cancel callback).
    router_.Add("GET", "/hang", [this](const HttpRequest&, std::shared_ptr<ResponseWriter> w) {
      w->SetCancelCallback([this] { cancelled_.set_value(); });
      hung_ = w;
    });
    HttpServerOptions options;
    options.host = "127.0.0.1";
    options.port = 0;
    options.max_header_bytes = 2048;
    options.max_body_bytes = 1024;
    options.request_timeout = 300ms;
    options.keep_alive_timeout = 2s;
    server_ = std::make_unique<HttpServer>(options, router_.AsHandler());
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    hung_.reset();
    server_->Stop();
  }

  Router router_;
  std::unique_ptr<HttpServer> server_;
  std::promise<void> cancelled_;
  std::shared_ptr<ResponseWriter> hung_;
};

TEST_F(HttpServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  Client c(server_->port());
  for (int i = 0; i < 3; ++i) {
    c.Send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Name: n" + std::to_string(i) + "\r\n\r\n");
    std::string r = c.ReadResponse();
    EXPECT_EQ(StatusOf(r), 200);
    EXPECT_EQ(BodyOf(r), "hello n" + std::to_string(i));
    EXPECT_NE(r.find("Connection: keep-alive"), std::string::npos);
  }
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  Client c(server_->port());
  c.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nA"
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nB");
  EXPECT_EQ(BodyOf(c.ReadResponse()), "A");
  EXPECT_EQ(BodyOf(c.ReadResponse()), "B");
}

TEST_F(HttpServerTest, ChunkedStreamFromAnotherThread) {
  Client c(server_->port());
  c.Send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string r = c.ReadUntil("0\r\n\r\n");
  EXPECT_NE(r.find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_NE(r.find("9\r\ndata: 0\n\n\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("9\r\ndata: 2\n\n\r\n"), std::string::npos) << r;
  // The connection is still usable afterwards.
  c.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
}

TEST_F(HttpServerTest, ErrorMidStreamIsAnEventThenDone) {
  Client c(server_->port());
  c.Send("GET /stream-fails HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string r = c.ReadUntil("0\r\n\r\n");
  EXPECT_EQ(StatusOf(r), 200);
  size_t error = r.find("data: {\"error\":");
  ASSERT_NE(error, std::string::npos) << r;
  EXPECT_NE(r.find("\"code\":503", error), std::string::npos) << r;
  // As vLLM: the terminator follows the error event, so clients see the stream's end.
  size_t done = r.find("data: [DONE]\n\n", error);
  EXPECT_NE(done, std::string::npos) << r;
}

TEST_F(HttpServerTest, RouterAnswers404And405WithJsonErrors) {
  Client c(server_->port());
  c.Send("GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string r = c.ReadResponse();
  EXPECT_EQ(StatusOf(r), 404);
  EXPECT_EQ(nlohmann::json::parse(BodyOf(r))["error"]["code"], 404);
  c.Send("DELETE /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  r = c.ReadResponse();
  EXPECT_EQ(StatusOf(r), 405);
  EXPECT_NE(r.find("Allow: GET"), std::string::npos);
}

TEST_F(HttpServerTest, HandlerExceptionsBecomeJsonErrorsWithoutInternals) {
  Client c(server_->port());
  c.Send("GET /throw HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string r = c.ReadResponse();
  EXPECT_EQ(StatusOf(r), 500);
  EXPECT_EQ(r.find("secret"), std::string::npos);
  c.Send("GET /bad HTTP/1.1\r\nHost: x\r\n\r\n");
  r = c.ReadResponse();
  EXPECT_EQ(StatusOf(r), 400);
  auto error = nlohmann::json::parse(BodyOf(r))["error"];
  EXPECT_EQ(error["param"], "x");
  EXPECT_EQ(error["type"], "BadRequestError");
}

TEST_F(HttpServerTest, OversizeBodyIs413AndOversizeHeadersAre431) {
  {
    Client c(server_->port());
    c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
    EXPECT_EQ(StatusOf(c.ReadResponse()), 413);
    EXPECT_TRUE(c.SeesEof());
  }
  {
    Client c(server_->port());
    c.Send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n");
    EXPECT_EQ(StatusOf(c.ReadResponse()), 431);
  }
}

TEST_F(HttpServerTest, MalformedRequestLineIs400) {
  Client c(server_->port());
  c.Send("THIS IS NOT HTTP\r\n\r\n");
  EXPECT_EQ(StatusOf(c.ReadResponse()), 400);
}

// RFC 9112 section 6.3: a Transfer-Encoding whose final coding is not chunked is a framing
// error; the server answers 400 and closes, so the bytes after it never run as a request.
TEST_F(HttpServerTest, TransferEncodingNotEndingInChunkedIs400AndCloses) {
  for (const char* coding : {"gzip", "identity", "chunked, identity", "gzip, chunked, gzip"}) {
    SCOPED_TRACE(coding);
    Client c(server_->port());
    c.Send(std::string("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ") + coding +
           "\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string r = c.ReadResponse();
    EXPECT_EQ(StatusOf(r), 400) << r;
    EXPECT_NE(r.find("Connection: close"), std::string::npos) << r;
    EXPECT_TRUE(c.SeesEof());  // never the smuggled GET's 200
  }
}

TEST_F(HttpServerTest, TransferEncodingWithContentLengthIs400AndCloses) {
  for (const char* fields : {"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
                             "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                             "Transfer-Encoding: gzip\r\nContent-Length: 5\r\n"}) {
    SCOPED_TRACE(fields);
    Client c(server_->port());
    c.Send(std::string("POST /echo HTTP/1.1\r\nHost: x\r\n") + fields +
           "\r\n0\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(StatusOf(c.ReadResponse()), 400);
    EXPECT_TRUE(c.SeesEof());
  }
}

TEST_F(HttpServerTest, UnsupportedTransferCodingBeforeChunkedIs501) {
  Client c(server_->port());
  c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
  EXPECT_EQ(StatusOf(c.ReadResponse()), 501);
  EXPECT_TRUE(c.SeesEof());
}

TEST_F(HttpServerTest, ChunkedRequestBodyIsStillRead) {
  Client c(server_->port());
  c.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "2\r\nAB\r\n1\r\nC\r\n0\r\n\r\n");
  std::string r = c.ReadResponse();
  EXPECT_EQ(StatusOf(r), 200);
  EXPECT_EQ(BodyOf(r), "ABC");
}

TEST_F(HttpServerTest, Http11RequestWithoutOneHostIs400AndCloses) {
  {
    Client c(server_->port());
    c.Send("GET /hello HTTP/1.1\r\n\r\n");
    std::string r = c.ReadResponse();
    EXPECT_EQ(StatusOf(r), 400);
    EXPECT_NE(BodyOf(r).find("Host"), std::string::npos) << r;
    EXPECT_TRUE(c.SeesEof());
  }
  {
    Client c(server_->port());
    c.Send("GET /hello HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n");
    EXPECT_EQ(StatusOf(c.ReadResponse()), 400);
    EXPECT_TRUE(c.SeesEof());
  }
  {
    // HTTP/1.0 has no Host requirement.
    Client c(server_->port());
    c.Send("GET /hello HTTP/1.0\r\n\r\n");
    EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
  }
}

TEST_F(HttpServerTest, HeadIsAnsweredWhereGetIsWithoutABody) {
  Client c(server_->port());
  c.Send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string head = c.ReadUntil("\r\n\r\n");
  EXPECT_EQ(StatusOf(head), 200) << head;
  EXPECT_NE(head.find("Content-Length: 6\r\n"), std::string::npos) << head;  // "hello "
  // A streamed GET answers HEAD with its head only.
  c.Send("HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  head = c.ReadUntil("\r\n\r\n");
  EXPECT_EQ(StatusOf(head), 200) << head;
  // The next response on the connection follows at once: no body was sent for either HEAD.
  c.Send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Name: again\r\n\r\n");
  std::string r = c.ReadResponse();
  EXPECT_EQ(StatusOf(r), 200) << r;
  EXPECT_EQ(BodyOf(r), "hello again");
  // HEAD where only POST is allowed stays a 405.
  c.Send("HEAD /echo HTTP/1.1\r\nHost: x\r\n\r\n");
  head = c.ReadUntil("\r\n\r\n");
  EXPECT_EQ(StatusOf(head), 405) << head;
}

TEST_F(HttpServerTest, SlowLorisGets408AndOthersAreStillServed) {
  Client slow(server_->port());
  slow.Send("GET /hello HTTP/1.1\r\nHost: x\r\n");  // never finishes its headers
  Client fast(server_->port());
  fast.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(StatusOf(fast.ReadResponse()), 200);
  EXPECT_EQ(StatusOf(slow.ReadResponse()), 408);
  EXPECT_TRUE(slow.SeesEof());
}

TEST_F(HttpServerTest, ClientDisconnectCancelsAPendingExchange) {
  auto cancelled = cancelled_.get_future();
  {
    Client c(server_->port());
    c.Send("GET /hang HTTP/1.1\r\nHost: x\r\n\r\n");
    // Wait until the handler ran, then leave.
    for (int i = 0; i < 500 && server_->active_exchanges() == 0; ++i)
      std::this_thread::sleep_for(2ms);
    ASSERT_EQ(server_->active_exchanges(), 1u);
  }
  ASSERT_EQ(cancelled.wait_for(10s), std::future_status::ready);
  for (int i = 0; i < 500 && server_->active_exchanges() > 0; ++i) std::this_thread::sleep_for(2ms);
  EXPECT_EQ(server_->active_exchanges(), 0u);
  // A write after the client left reports it.
  EXPECT_TRUE(hung_->cancelled());
  EXPECT_FALSE(hung_->WriteChunk("late"));
}

TEST_F(HttpServerTest, StopAcceptingClosesIdleConnections) {
  Client c(server_->port());
  c.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(StatusOf(c.ReadResponse()), 200);
  server_->StopAccepting();
  EXPECT_TRUE(c.SeesEof());
}

}  // namespace
}  // namespace lantern::server
