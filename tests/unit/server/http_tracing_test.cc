// The HTTP server span through the router's observer: name, kind, parent from the
// caller's headers, every attribute, status rules (5xx error, 4xx not, client gone), the
// traceresponse header, the context handlers see, and nothing at all when tracing is off.
#include "server/http_tracing.h"

#include <gtest/gtest.h>

#include <mutex>
#include <string>

#include "server/api_error.h"
#include "server/router.h"
#include "span_capture.h"
#include "telemetry/context.h"
#include "telemetry/sampler.h"
#include "telemetry/tail_sampling.h"
#include "telemetry/trace_context.h"

namespace lantern::server {
namespace {

using telemetry::SpanData;
using testing::Attr;
using testing::SpanCapture;

constexpr const char* kParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

// Records what the router sends, like a transport would.
class FakeWriter : public ResponseWriter {
 public:
  void Send(HttpResponse response) override {
    sent = true;
    status = response.status;
    headers = response.headers;
  }
  void BeginStream(int s, std::string, HeaderList h) override {
    sent = true;
    status = s;
    headers = h;
  }
  bool WriteChunk(std::string) override { return !gone; }
  void EndStream() override {}
  void SetCancelCallback(std::function<void()> callback) override { cancel = std::move(callback); }
  bool cancelled() const override { return gone; }
  bool started() const override { return sent; }

  std::string Header(const std::string& name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return v;
    }
    return {};
  }
  bool sent = false, gone = false;
  int status = 0;
  HeaderList headers;
  std::function<void()> cancel;
};

HttpRequest MakeRequest(const std::string& method, const std::string& path) {
  HttpRequest r;
  r.method = method;
  r.target = path + "?x=1";
  r.path = path;
  r.client_address = "127.0.0.1";
  r.client_port = 40000;
  r.server_address = "127.0.0.1";
  r.server_port = 8000;
  r.headers = {{"host", "example.test:9000"}, {"user-agent", "curl/8"}};
  return r;
}

class HttpTracingTest : public ::testing::Test {
 protected:
  HttpTracingTest() {
    router_.SetObserverFactory(MakeHttpTracingObserverFactory());
    router_.Add("POST", "/v1/completions", [this](const HttpRequest&, auto writer) {
      seen_context_ = writer->trace_context() ? writer->trace_context()->span_context
                                              : telemetry::SpanContext{};
      writer->Send(HttpResponse{status_, "application/json", {}, "{}"});
    });
    router_.Add("GET", "/boom",
                [](const HttpRequest&, auto) -> void { throw std::runtime_error("boom"); });
    router_.Add("GET", "/stream", [](const HttpRequest&, auto writer) {
      writer->BeginStream(200, "text/event-stream", {});
      // The client leaves mid-stream; the writer is dropped without EndStream.
    });
  }

  SpanData Only() {
    auto spans = capture_.spans();
    EXPECT_EQ(spans.size(), 1u);
    return spans.empty() ? SpanData{} : spans[0];
  }

  SpanCapture capture_{true};
  Router router_;
  int status_ = 200;
  telemetry::SpanContext seen_context_;
};

TEST_F(HttpTracingTest, ServerSpanWithEveryAttribute) {
  HttpRequest request = MakeRequest("POST", "/v1/completions");
  request.headers.emplace_back("traceparent", kParent);
  request.headers.emplace_back("tracestate", "vendor=1");
  auto writer = std::make_shared<FakeWriter>();
  router_.Handle(request, writer);
  SpanData span = Only();
  EXPECT_EQ(span.name, "POST /v1/completions");
  EXPECT_EQ(span.kind, telemetry::SpanKind::kServer);
  auto parent = *telemetry::ParseTraceParent(kParent);
  EXPECT_EQ(span.trace_id, parent.trace_id);
  EXPECT_EQ(span.parent_span_id, parent.span_id);
  EXPECT_EQ(span.trace_state, "vendor=1");
  auto str = [&](const char* key) {
    const auto* v = Attr(span.attributes, key);
    return v && std::holds_alternative<std::string>(*v) ? std::get<std::string>(*v) : "<absent>";
  };
  auto num = [&](const char* key) {
    const auto* v = Attr(span.attributes, key);
    return v && std::holds_alternative<int64_t>(*v) ? std::get<int64_t>(*v) : int64_t{-1};
  };
  EXPECT_EQ(str("http.request.method"), "POST");
  EXPECT_EQ(str("url.path"), "/v1/completions");
  EXPECT_EQ(str("url.scheme"), "http");
  EXPECT_EQ(str("http.route"), "/v1/completions");
  EXPECT_EQ(num("http.response.status_code"), 200);
  EXPECT_EQ(str("server.address"), "example.test");
  EXPECT_EQ(num("server.port"), 9000);
  EXPECT_EQ(str("client.address"), "127.0.0.1");
  EXPECT_EQ(num("client.port"), 40000);
  EXPECT_EQ(str("network.protocol.version"), "1.1");
  EXPECT_EQ(str("user_agent.original"), "curl/8");
  EXPECT_EQ(Attr(span.attributes, "error.type"), nullptr);
  EXPECT_EQ(span.status_code, telemetry::StatusCode::kUnset);

  // The handler saw the HTTP span's own context, and the caller gets its ids back.
  EXPECT_EQ(seen_context_.span_id, span.span_id);
  EXPECT_EQ(seen_context_.trace_id, span.trace_id);
  telemetry::SpanContext mine;
  mine.trace_id = span.trace_id;
  mine.span_id = span.span_id;
  mine.trace_flags = 1;
  EXPECT_EQ(writer->Header("traceresponse"), telemetry::FormatTraceParent(mine));
}

TEST_F(HttpTracingTest, NoTraceparentStartsANewTrace) {
  auto writer = std::make_shared<FakeWriter>();
  router_.Handle(MakeRequest("POST", "/v1/completions"), writer);
  SpanData span = Only();
  EXPECT_EQ(span.parent_span_id, telemetry::SpanId{});
  EXPECT_FALSE(writer->Header("traceresponse").empty());
}

TEST_F(HttpTracingTest, InvalidTraceparentStartsANewTrace) {
  HttpRequest request = MakeRequest("POST", "/v1/completions");
  request.headers.emplace_back("traceparent", "00-zz-not-valid");
  auto writer = std::make_shared<FakeWriter>();
  router_.Handle(request, writer);
  EXPECT_EQ(writer->status, 200);
  EXPECT_EQ(Only().parent_span_id, telemetry::SpanId{});
}

TEST_F(HttpTracingTest, ServerErrorsAreErrorsClientErrorsAreNot) {
  status_ = 503;
  router_.Handle(MakeRequest("POST", "/v1/completions"), std::make_shared<FakeWriter>());
  router_.Handle(MakeRequest("GET", "/boom"), std::make_shared<FakeWriter>());
  router_.Handle(MakeRequest("GET", "/nowhere"), std::make_shared<FakeWriter>());
  auto spans = capture_.spans();
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0].status_code, telemetry::StatusCode::kError);
  EXPECT_EQ(std::get<std::string>(*Attr(spans[0].attributes, "error.type")), "503");
  EXPECT_EQ(spans[1].name, "GET /boom");
  EXPECT_EQ(std::get<std::string>(*Attr(spans[1].attributes, "error.type")), "500");
  EXPECT_EQ(spans[2].name, "GET");  // no route matched
  EXPECT_EQ(Attr(spans[2].attributes, "http.route"), nullptr);
  EXPECT_EQ(std::get<int64_t>(*Attr(spans[2].attributes, "http.response.status_code")), 404);
  EXPECT_EQ(spans[2].status_code, telemetry::StatusCode::kUnset);
  EXPECT_EQ(Attr(spans[2].attributes, "error.type"), nullptr);
}

TEST_F(HttpTracingTest, TemplateRoutesReportTheTemplateNotThePath) {
  router_.Add("GET", "/v1/models", [](const HttpRequest&, auto w) { w->Send(HttpResponse{}); });
  std::string seen;
  router_.Add("GET", "/v1/models/{model}", [&seen](const HttpRequest& r, auto w) {
    seen = r.path;
    w->Send(HttpResponse{});
  });
  router_.Handle(MakeRequest("GET", "/v1/models/org/tiny"), std::make_shared<FakeWriter>());
  EXPECT_EQ(seen, "/v1/models/org/tiny");  // the rest of the path, '/' included
  router_.Handle(MakeRequest("GET", "/v1/models"), std::make_shared<FakeWriter>());
  router_.Handle(MakeRequest("GET", "/v1/models/"), std::make_shared<FakeWriter>());
  auto spans = capture_.spans();
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[0].name, "GET /v1/models/{model}");
  EXPECT_EQ(std::get<std::string>(*Attr(spans[0].attributes, "http.route")), "/v1/models/{model}");
  EXPECT_EQ(std::get<std::string>(*Attr(spans[0].attributes, "url.path")), "/v1/models/org/tiny");
  // The exact route wins; an empty parameter matches nothing.
  EXPECT_EQ(std::get<std::string>(*Attr(spans[1].attributes, "http.route")), "/v1/models");
  EXPECT_EQ(Attr(spans[2].attributes, "http.route"), nullptr);
  EXPECT_EQ(std::get<int64_t>(*Attr(spans[2].attributes, "http.response.status_code")), 404);
}

TEST_F(HttpTracingTest, ClientGoneIsAnError) {
  auto writer = std::make_shared<FakeWriter>();
  router_.Handle(MakeRequest("GET", "/stream"), writer);
  ASSERT_TRUE(writer->cancel);
  writer->gone = true;
  writer->cancel();
  SpanData span = Only();
  EXPECT_EQ(span.status_code, telemetry::StatusCode::kError);
  EXPECT_EQ(std::get<std::string>(*Attr(span.attributes, "error.type")), "client_disconnected");
  EXPECT_FALSE(writer->Header("traceresponse").empty());
}

TEST(HttpTracingSampling, UnsampledStillAnswersTraceresponse) {
  SpanCapture capture(true, telemetry::MakeAlwaysOffSampler());
  Router router;
  router.SetObserverFactory(MakeHttpTracingObserverFactory());
  router.Add("GET", "/health", [](const HttpRequest&, auto w) { w->Send(HttpResponse{}); });
  auto writer = std::make_shared<FakeWriter>();
  router.Handle(MakeRequest("GET", "/health"), writer);
  EXPECT_TRUE(capture.spans().empty());
  std::string header = writer->Header("traceresponse");
  ASSERT_EQ(header.size(), 55u) << header;
  EXPECT_EQ(header.substr(0, 3), "00-");
  EXPECT_EQ(header.substr(53), "00");
}

// The detail header (issue 17): accepted with the API key (or without one set), then the
// exchange's context asks for the detailed level and the HTTP span forces its trace kept.
TEST(HttpTracingDetail, HeaderNeedsTheApiKeyWhenOneIsSet) {
  SpanCapture capture(true);
  struct Case {
    std::string api_key, authorization, value;
    bool detailed;
  };
  const Case cases[] = {
      {"", "", "detailed", true},
      {"", "", "DETAILED", true},
      {"", "", "verbose", false},
      {"sk-1", "Bearer sk-1", "detailed", true},
      {"sk-1", "Bearer sk-2", "detailed", false},
      {"sk-1", "", "detailed", false},
  };
  for (const Case& c : cases) {
    Router router;
    router.SetObserverFactory(MakeHttpTracingObserverFactory(c.api_key));
    bool detailed = false;
    router.Add("GET", "/x", [&](const HttpRequest&, auto w) {
      detailed = w->trace_context() != nullptr && w->trace_context()->detailed;
      w->Send(HttpResponse{});
    });
    HttpRequest request = MakeRequest("GET", "/x");
    request.headers.emplace_back(kTraceDetailHeader, c.value);
    if (!c.authorization.empty()) request.headers.emplace_back("authorization", c.authorization);
    router.Handle(request, std::make_shared<FakeWriter>());
    EXPECT_EQ(detailed, c.detailed) << c.api_key << " / " << c.authorization << " / " << c.value;
    auto spans = capture.spans();
    ASSERT_FALSE(spans.empty());
    const auto* keep = Attr(spans.back().attributes, telemetry::kForceKeepAttribute);
    EXPECT_EQ(keep != nullptr, c.detailed);
  }
}

TEST(HttpTracingOff, NoObserverNoHeader) {
  ASSERT_EQ(telemetry::GlobalTracerProvider(), nullptr);
  auto factory = MakeHttpTracingObserverFactory();
  HttpRequest request = MakeRequest("GET", "/health");
  request.headers.emplace_back("traceparent", kParent);
  EXPECT_EQ(factory(request, "/health"), nullptr);
  EXPECT_EQ(factory(request, "/health"), nullptr);  // warned once, still nothing
}

TEST(TraceResponse, Format) {
  telemetry::SpanContext c = *telemetry::ParseTraceParent(kParent);
  EXPECT_EQ(FormatTraceResponse(c), kParent);
  c.trace_flags = 0;
  EXPECT_EQ(FormatTraceResponse(c), "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00");
  EXPECT_EQ(FormatTraceResponse(telemetry::SpanContext{}), "");
}

TEST(RequestAuthority, HostHeaderThenSocket) {
  HttpRequest r = MakeRequest("GET", "/");
  EXPECT_EQ(RequestAuthority(r).address, "example.test");
  EXPECT_EQ(RequestAuthority(r).port, 9000);
  r.headers = {{"host", "[::1]:8080"}};
  EXPECT_EQ(RequestAuthority(r).address, "::1");
  EXPECT_EQ(RequestAuthority(r).port, 8080);
  r.headers = {{"host", "example.test"}};
  EXPECT_EQ(RequestAuthority(r).port, 80);
  r.headers = {};
  EXPECT_EQ(RequestAuthority(r).address, "127.0.0.1");
  EXPECT_EQ(RequestAuthority(r).port, 8000);
}

}  // namespace
}  // namespace lantern::server
