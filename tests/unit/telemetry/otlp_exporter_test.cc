// OtlpExporter's own logic (splitting, retries, partial success, shutdown, counting) with a
// scripted transport that encodes for real (protobuf) but answers from a script. The real
// gRPC and HTTP transports are exercised end to end in tests/e2e/telemetry.
#include "telemetry/otlp_exporter.h"

#include <gtest/gtest.h>

#include <deque>
#include <set>
#include <thread>

#include "telemetry/otlp_proto.h"
#include "telemetry/otlp_transport.h"
#include "telemetry/otlp_wire.h"

namespace lantern::telemetry {
namespace {

class ProtoRequest final : public OtlpRequest {
 public:
  explicit ProtoRequest(std::span<const SpanData* const> spans) {
    AppendOtlpProtobuf(spans, &bytes);
    EXPECT_TRUE(message.ParseFromString(bytes));
  }
  size_t ByteSize() const override { return bytes.size(); }
  std::string bytes;
  ExportTraceServiceRequest message;
};

// Answers sends from a script (then OK) and records every request it was asked to send.
class ScriptedTransport final : public OtlpTransport {
 public:
  explicit ScriptedTransport(std::deque<SendOutcome> script) : script_(std::move(script)) {}

  std::unique_ptr<OtlpRequest> Encode(std::span<const SpanData* const> spans) override {
    return std::make_unique<ProtoRequest>(spans);
  }
  SendOutcome Send(const OtlpRequest& request, SteadyTime deadline) override {
    std::lock_guard lock(mutex_);
    sent.push_back(static_cast<const ProtoRequest&>(request).message);
    sizes.push_back(request.ByteSize());
    if (cancelled_) return {SendOutcome::Kind::kCancelled, {}, 0, "cancelled"};
    if (script_.empty()) return {};
    SendOutcome next = script_.front();
    script_.pop_front();
    return next;
  }
  void Cancel() override {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
  }
  std::string Describe() const override { return "scripted"; }

  std::vector<ExportTraceServiceRequest> sent;
  std::vector<size_t> sizes;

 private:
  std::mutex mutex_;
  std::deque<SendOutcome> script_;
  bool cancelled_ = false;
};

std::vector<std::unique_ptr<SpanData>> MakeSpans(int count, size_t attribute_bytes) {
  auto resource = std::make_shared<Resource>();
  std::vector<std::unique_ptr<SpanData>> spans;
  for (int i = 0; i < count; ++i) {
    auto span = std::make_unique<SpanData>();
    span->span_id[0] = static_cast<uint8_t>(i + 1);
    span->name = "span";
    span->attributes = {{"payload", std::string(attribute_bytes, 'x')}};
    span->resource = resource;
    spans.push_back(std::move(span));
  }
  return spans;
}

std::multiset<int> SentSpanIds(const ScriptedTransport& transport) {
  std::multiset<int> ids;
  for (const auto& request : transport.sent) {
    for (const auto& rs : request.resource_spans()) {
      for (const auto& ss : rs.scope_spans()) {
        for (const auto& span : ss.spans()) ids.insert(static_cast<uint8_t>(span.span_id()[0]));
      }
    }
  }
  return ids;
}

SendOutcome Outcome(SendOutcome::Kind kind, std::optional<std::chrono::milliseconds> after = {}) {
  return {kind, after, 0, "scripted"};
}

constexpr auto kTimeout = std::chrono::seconds(30);

TEST(OtlpExporter, SplitsRequestsOverTheLimitAndDropsSpansTooLargeAlone) {
  auto transport = std::make_unique<ScriptedTransport>(std::deque<SendOutcome>{});
  ScriptedTransport* sent = transport.get();
  const size_t limit = 3000;
  OtlpExporter exporter(std::move(transport), kTimeout, RetryPolicy{}, limit);
  auto spans = MakeSpans(9, 1000);
  spans[4]->attributes[0].value = std::string(5000, 'y');  // alone over the limit
  ASSERT_EQ(exporter.Export(spans), ExportResult::kSuccess);
  for (size_t size : sent->sizes) EXPECT_LE(size, limit);
  EXPECT_EQ(SentSpanIds(*sent), (std::multiset<int>{1, 2, 3, 4, 6, 7, 8, 9}));
  OtlpExporterStats stats = exporter.stats();
  EXPECT_EQ(stats.spans_exported, 8u);
  EXPECT_EQ(stats.spans_too_large, 1u);
  EXPECT_EQ(stats.requests_sent, sent->sent.size());
  EXPECT_GT(stats.requests_sent, 3u);
}

TEST(OtlpExporter, RetriesRetryableFailuresThenDelivers) {
  std::deque<SendOutcome> script = {
      Outcome(SendOutcome::Kind::kRetryable, std::chrono::milliseconds(0)),
      Outcome(SendOutcome::Kind::kRetryable, std::chrono::milliseconds(1))};
  auto transport = std::make_unique<ScriptedTransport>(script);
  ScriptedTransport* sent = transport.get();
  OtlpExporter exporter(std::move(transport), kTimeout);
  auto spans = MakeSpans(3, 10);
  EXPECT_EQ(exporter.Export(spans), ExportResult::kSuccess);
  EXPECT_EQ(sent->sent.size(), 3u);
  OtlpExporterStats stats = exporter.stats();
  EXPECT_EQ(stats.retries, 2u);
  EXPECT_EQ(stats.spans_exported, 3u);
}

TEST(OtlpExporter, GivesUpAtOnceWhenTheServerAsksToWaitPastTheDeadline) {
  std::deque<SendOutcome> script = {Outcome(SendOutcome::Kind::kRetryable, std::chrono::hours(1))};
  auto transport = std::make_unique<ScriptedTransport>(script);
  ScriptedTransport* sent = transport.get();
  OtlpExporter exporter(std::move(transport), kTimeout);
  auto spans = MakeSpans(4, 10);
  EXPECT_EQ(exporter.Export(spans), ExportResult::kFailure);
  EXPECT_EQ(sent->sent.size(), 1u);
  EXPECT_EQ(exporter.stats().spans_timed_out, 4u);
  EXPECT_EQ(exporter.stats().retries, 0u);
}

TEST(OtlpExporter, NonRetryableFailuresDropTheBatch) {
  auto transport = std::make_unique<ScriptedTransport>(
      std::deque<SendOutcome>{Outcome(SendOutcome::Kind::kFailed)});
  ScriptedTransport* sent = transport.get();
  OtlpExporter exporter(std::move(transport), kTimeout);
  auto spans = MakeSpans(5, 10);
  EXPECT_EQ(exporter.Export(spans), ExportResult::kFailure);
  EXPECT_EQ(sent->sent.size(), 1u);
  EXPECT_EQ(exporter.stats().spans_failed, 5u);
  // The next batch goes out normally.
  EXPECT_EQ(exporter.Export(spans), ExportResult::kSuccess);
  EXPECT_EQ(exporter.stats().spans_exported, 5u);
}

TEST(OtlpExporter, PartialSuccessIsCountedNotRetried) {
  SendOutcome partial;
  partial.rejected_spans = 2;
  partial.message = "too old";
  auto transport = std::make_unique<ScriptedTransport>(std::deque<SendOutcome>{partial});
  ScriptedTransport* sent = transport.get();
  OtlpExporter exporter(std::move(transport), kTimeout);
  auto spans = MakeSpans(5, 10);
  EXPECT_EQ(exporter.Export(spans), ExportResult::kSuccess);
  EXPECT_EQ(sent->sent.size(), 1u);
  EXPECT_EQ(exporter.stats().spans_rejected, 2u);
  EXPECT_EQ(exporter.stats().spans_exported, 3u);
}

TEST(OtlpExporter, ShutdownInterruptsABackoffAndLaterExportsFail) {
  std::deque<SendOutcome> script(100,
                                 Outcome(SendOutcome::Kind::kRetryable, std::chrono::seconds(20)));
  OtlpExporter exporter(std::make_unique<ScriptedTransport>(script), std::chrono::minutes(5));
  auto spans = MakeSpans(2, 10);
  ExportResult result = ExportResult::kSuccess;
  std::thread exporting([&] { result = exporter.Export(spans); });
  while (exporter.stats().requests_sent == 0) std::this_thread::yield();
  EXPECT_TRUE(exporter.Shutdown(std::chrono::seconds(10)));
  exporting.join();
  EXPECT_EQ(result, ExportResult::kFailure);
  EXPECT_EQ(exporter.Export(spans), ExportResult::kFailure);
  EXPECT_EQ(exporter.stats().spans_after_shutdown, 2u);
  EXPECT_TRUE(exporter.Shutdown(std::chrono::seconds(1)));  // idempotent
}

TEST(OtlpExporter, FactoryRejectsUnusableConfiguration) {
  OtlpExporterOptions options;
  options.endpoint = "http://localhost:4317";
  options.certificate_file = "/nonexistent/ca.pem";
  options.insecure = false;
  options.endpoint = "https://localhost:4317";
  Result<std::unique_ptr<OtlpExporter>> exporter = CreateOtlpExporter(options);
  ASSERT_FALSE(exporter.ok());
  EXPECT_NE(exporter.status().message().find("/nonexistent/ca.pem"), std::string::npos);
  options.protocol = OtlpProtocol::kHttpProtobuf;
  options.certificate_file.clear();
  options.endpoint = "grpc://collector:4318";
  EXPECT_FALSE(CreateOtlpExporter(options).ok());
  options.endpoint = "http://collector:4318/v1/traces";
  EXPECT_TRUE(CreateOtlpExporter(options).ok());  // connects lazily: no collector needed
}

}  // namespace
}  // namespace lantern::telemetry
