#include "telemetry/otlp_exporter.h"

#include <algorithm>

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
    : transport_(std::move(transport)),
      timeout_(timeout),
      retry_policy_(retry_policy),
      max_request_bytes_(max_request_bytes),
      rng_(std::random_device{}()) {}

OtlpExporter::~OtlpExporter() { Shutdown(std::chrono::seconds(1)); }

ExportResult OtlpExporter::Export(std::span<const std::unique_ptr<SpanData>> spans) {
  {
    std::lock_guard lock(mutex_);
    if (shutdown_) {
      Add(counters_.spans_after_shutdown, spans.size());
      return ExportResult::kFailure;
    }
    export_running_ = true;
  }
  const SteadyTime deadline = Now() + timeout_;
  std::vector<const SpanData*> batch;
  batch.reserve(spans.size());
  for (const auto& span : spans) {
    if (span) batch.push_back(span.get());
  }
  bool ok = batch.empty() || ExportChunk(batch, deadline);
  {
    std::lock_guard lock(mutex_);
    export_running_ = false;
  }
  changed_.notify_all();
  return ok ? ExportResult::kSuccess : ExportResult::kFailure;
}

bool OtlpExporter::ExportChunk(std::span<const SpanData* const> spans, SteadyTime deadline) {
  std::unique_ptr<OtlpRequest> request = transport_->Encode(spans);
  if (request->ByteSize() > max_request_bytes_) {
    if (spans.size() == 1) {
      LANTERN_LOG(kWarning, kLog) << "dropped span \"" << spans[0]->name << "\": its request is "
                                  << request->ByteSize() << " bytes, over the limit of "
                                  << max_request_bytes_;
      Add(counters_.spans_too_large, 1);
      RecordSpansDropped(DropReason::kTooLarge, 1);
      return true;
    }
    request.reset();
    size_t half = spans.size() / 2;
    bool first = ExportChunk(spans.subspan(0, half), deadline);
    bool second = ExportChunk(spans.subspan(half), deadline);
    return first && second;
  }
  return SendWithRetries(*request, spans.size(), deadline);
}

bool OtlpExporter::SendWithRetries(const OtlpRequest& request, size_t span_count,
                                   SteadyTime deadline) {
  for (int retry = 0;; ++retry) {
    Add(counters_.requests_sent, 1);
    SendOutcome outcome = transport_->Send(request, deadline);
    switch (outcome.kind) {
      case SendOutcome::Kind::kOk: {
        uint64_t rejected = static_cast<uint64_t>(
            std::clamp<int64_t>(outcome.rejected_spans, 0, static_cast<int64_t>(span_count)));
        if (rejected > 0 || !outcome.message.empty()) {
          LANTERN_LOG(kWarning, kLog)
              << transport_->Describe() << ": the collector rejected " << rejected << " of "
              << span_count << " spans: " << outcome.message;
        }
        if (rejected > 0) {
          Add(counters_.spans_rejected, rejected);
          RecordSpansDropped(DropReason::kRejected, rejected);
        }
        Add(counters_.spans_exported, span_count - rejected);
        return true;
      }
      case SendOutcome::Kind::kFailed:
      case SendOutcome::Kind::kCancelled:
        LANTERN_LOG_AT(DropLogLevel(outcome), kLog) << transport_->Describe() << ": dropped "
                                                    << span_count << " spans: " << outcome.message;
        Add(counters_.spans_failed, span_count);
        return false;
      case SendOutcome::Kind::kRetryable:
        break;
    }
    std::chrono::milliseconds delay =
        outcome.retry_after ? *outcome.retry_after : BackoffDelay(retry_policy_, retry, rng_);
    SteadyTime retry_at = Now() + delay;
    if (retry_at >= deadline) {
      LANTERN_LOG_AT(DropLogLevel(outcome), kLog)
          << transport_->Describe() << ": dropped " << span_count << " spans: " << outcome.message
          << " (no time left to retry"
          << " within the " << timeout_.count() << " ms export timeout)";
      Add(counters_.spans_timed_out, span_count);
      return false;
    }
    LANTERN_LOG(kDebug, kLog) << transport_->Describe() << ": " << outcome.message
                              << "; retrying in " << delay.count() << " ms";
    if (!SleepUntil(retry_at)) {
      Add(counters_.spans_failed, span_count);
      return false;
    }
    Add(counters_.retries, 1);
    RecordExportRetry();
  }
}

bool OtlpExporter::SleepUntil(SteadyTime until) {
  std::unique_lock lock(mutex_);
  changed_.wait_until(lock, until, [this] { return shutdown_; });
  return !shutdown_;
}

bool OtlpExporter::Shutdown(std::chrono::microseconds timeout) {
  const SteadyTime deadline = Now() + timeout;
  {
    std::lock_guard lock(mutex_);
    shutdown_ = true;
  }
  transport_->Cancel();
  changed_.notify_all();
  std::unique_lock lock(mutex_);
  return changed_.wait_until(lock, deadline, [this] { return !export_running_; });
}

OtlpExporterStats OtlpExporter::stats() const {
  OtlpExporterStats stats;
  stats.requests_sent = Load(counters_.requests_sent);
  stats.retries = Load(counters_.retries);
  stats.spans_exported = Load(counters_.spans_exported);
  stats.spans_rejected = Load(counters_.spans_rejected);
  stats.spans_failed = Load(counters_.spans_failed);
  stats.spans_timed_out = Load(counters_.spans_timed_out);
  stats.spans_too_large = Load(counters_.spans_too_large);
  stats.spans_after_shutdown = Load(counters_.spans_after_shutdown);
  return stats;
}

}  // namespace lantern::telemetry
