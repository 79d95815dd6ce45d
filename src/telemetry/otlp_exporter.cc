#include "telemetry/otlp_exporter.h"

#include "base/log.h"
#include "telemetry/health.h"
#include "telemetry/otlp_transport.h"

namespace lantern::telemetry {
namespace {

constexpr char kLog[] = "otlp";

uint64_t Load(const std::atomic<uint64_t>& counter) {
  return counter.load(std::memory_order_relaxed);
}
void Add(std::atomic<uint64_t>& counter, uint64_t n) {
  counter.fetch_add(n, std::memory_order_relaxed);
}

}  // namespace

OtlpExporter::OtlpExporter(std::unique_ptr<OtlpTransport> transport,
                           std::chrono::milliseconds timeout, RetryPolicy retry_policy,
                           size_t max_request_bytes)
    : delivery_(std::move(transport), timeout, retry_policy, "spans",
                {.rejected = [](uint64_t n) { RecordSpansDropped(DropReason::kRejected, n); },
                 .retried = [] { RecordExportRetry(); }}),
      max_request_bytes_(max_request_bytes) {}

OtlpExporter::~OtlpExporter() { Shutdown(std::chrono::seconds(1)); }

ExportResult OtlpExporter::Export(std::span<const std::unique_ptr<SpanData>> spans) {
  if (!delivery_.BeginExport()) {
    Add(spans_after_shutdown_, spans.size());
    return ExportResult::kFailure;
  }
  std::vector<const SpanData*> batch;
  batch.reserve(spans.size());
  for (const auto& span : spans) {
    if (span) batch.push_back(span.get());
  }
  bool ok = batch.empty() || ExportChunk(batch, delivery_.ExportDeadline());
  delivery_.EndExport();
  return ok ? ExportResult::kSuccess : ExportResult::kFailure;
}

bool OtlpExporter::ExportChunk(std::span<const SpanData* const> spans, SteadyTime deadline) {
  std::unique_ptr<OtlpRequest> request = delivery_.transport().Encode(spans);
  if (request->ByteSize() > max_request_bytes_) {
    if (spans.size() == 1) {
      LANTERN_LOG(kWarning, kLog) << "dropped span \"" << spans[0]->name << "\": its request is "
                                  << request->ByteSize() << " bytes, over the limit of "
                                  << max_request_bytes_;
      Add(spans_too_large_, 1);
      RecordSpansDropped(DropReason::kTooLarge, 1);
      return true;
    }
    request.reset();
    size_t half = spans.size() / 2;
    bool first = ExportChunk(spans.subspan(0, half), deadline);
    bool second = ExportChunk(spans.subspan(half), deadline);
    return first && second;
  }
  return delivery_.Send(*request, spans.size(), deadline);
}

bool OtlpExporter::Shutdown(std::chrono::microseconds timeout) {
  return delivery_.Shutdown(timeout);
}

OtlpExporterStats OtlpExporter::stats() const {
  OtlpDeliveryCounts c = delivery_.counts();
  return {.requests_sent = c.requests_sent,
          .retries = c.retries,
          .spans_exported = c.exported,
          .spans_rejected = c.rejected,
          .spans_failed = c.failed,
          .spans_timed_out = c.timed_out,
          .spans_too_large = Load(spans_too_large_),
          .spans_after_shutdown = Load(spans_after_shutdown_)};
}

}  // namespace lantern::telemetry
