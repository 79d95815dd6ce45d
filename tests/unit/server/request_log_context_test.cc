// The log context of a request (issue 17): what the router sets while a handler runs —
// the HTTP span's ids when an observer traces the exchange, else the caller's
// traceparent, else nothing — and that it ends with the request.
#include "server/request_log_context.h"

#include <gtest/gtest.h>

#include <string>

#include "server/router.h"
#include "telemetry/context.h"
#include "telemetry/ids.h"
#include "telemetry/trace_context.h"

namespace lantern::server {
namespace {

constexpr const char* kCallerTrace = "0af7651916cd43dd8448eb211c80319c";
constexpr const char* kCallerSpan = "b7ad6b7169203331";

class NullWriter : public ResponseWriter {
 public:
  void Send(HttpResponse) override { sent = true; }
  void BeginStream(int, std::string, HeaderList) override { sent = true; }
  bool WriteChunk(std::string) override { return true; }
  void EndStream() override {}
  void SetCancelCallback(std::function<void()>) override {}
  bool cancelled() const override { return false; }
  bool started() const override { return sent; }
  bool sent = false;
};

// Stands in for the HTTP span observer: an exchange with a trace context of its own.
class TracedObserver : public ExchangeObserver {
 public:
  explicit TracedObserver(telemetry::SpanContext span) { context_.span_context = span; }
  const telemetry::Context* trace_context() const override { return &context_; }

 private:
  telemetry::Context context_;
};

std::string Hex(const log::Context& c) {
  if (!c.valid()) return "none";
  return telemetry::ToHex(telemetry::TraceId(c.trace_id)) + "/" +
         telemetry::ToHex(telemetry::SpanId(c.span_id));
}

HttpRequest Request(bool with_traceparent) {
  HttpRequest r;
  r.method = "GET";
  r.path = "/x";
  r.target = "/x";
  if (with_traceparent) {
    r.headers.emplace_back("traceparent",
                           std::string("00-") + kCallerTrace + "-" + kCallerSpan + "-00");
  }
  return r;
}

// Runs one request through a router; returns what the handler saw as its log context.
std::string SeenByHandler(Router& router, const HttpRequest& request) {
  std::string seen;
  router.Add("GET", "/x", [&seen](const HttpRequest&, std::shared_ptr<ResponseWriter> w) {
    seen = Hex(log::CurrentContext());
    w->Send(HttpResponse{200, "text/plain", {}, ""});
  });
  router.Handle(request, std::make_shared<NullWriter>());
  EXPECT_FALSE(log::CurrentContext().valid()) << "the context outlived its request";
  return seen;
}

TEST(RequestLogContextTest, TheCallersTraceparentWhenNothingTracesTheExchange) {
  Router router;
  EXPECT_EQ(SeenByHandler(router, Request(true)), std::string(kCallerTrace) + "/" + kCallerSpan);
}

TEST(RequestLogContextTest, NoContextWithoutTraceparentOrSpan) {
  Router router;
  EXPECT_EQ(SeenByHandler(router, Request(false)), "none");
}

TEST(RequestLogContextTest, TheHttpSpansIdsWhenTheExchangeIsTraced) {
  telemetry::SpanContext span =
      *telemetry::ParseTraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  Router router;
  std::string seen_by_later_observer;
  router.AddObserverFactory([span](const HttpRequest&, const std::string&) {
    return std::make_unique<TracedObserver>(span);
  });
  // A factory after the tracing one (as the access log is) already sees the span's ids.
  router.AddObserverFactory([&](const HttpRequest&, const std::string&) {
    seen_by_later_observer = Hex(log::CurrentContext());
    return std::unique_ptr<ExchangeObserver>();
  });
  std::string expected = "4bf92f3577b34da6a3ce929d0e0e4736/00f067aa0ba902b7";
  EXPECT_EQ(SeenByHandler(router, Request(true)), expected);
  EXPECT_EQ(seen_by_later_observer, expected);
}

TEST(RequestLogContextTest, ToLogContextKeepsTheFlags) {
  telemetry::SpanContext span =
      *telemetry::ParseTraceParent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  log::Context context = ToLogContext(span);
  EXPECT_TRUE(context.valid());
  EXPECT_EQ(context.trace_flags, 0);
  EXPECT_FALSE(ToLogContext(telemetry::SpanContext{}).valid());
}

}  // namespace
}  // namespace lantern::server
