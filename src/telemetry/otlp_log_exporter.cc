#include "telemetry/otlp_log_exporter.h"

#include <algorithm>

#include "base/log.h"
#include "telemetry/otlp_grpc_transport.h"
#include "telemetry/otlp_http_transport.h"
#include "telemetry/otlp_transport.h"

namespace lantern::telemetry {
namespace {

constexpr char kLog[] = "otlp";

void Add(std::atomic<uint64_t>& counter, uint64_t n) {
  counter.fetch_add(n, std::memory_order_relaxed);
}
uint64_t Load(const std::atomic<uint64_t>& counter) {
  return counter.load(std::memory_order_relaxed);
}

}  // namespace

OtlpLogExporter::OtlpLogExporter(std::unique_ptr<OtlpTransport> transport,
                                 std::chrono::milliseconds timeout, Resource resource,
                                 InstrumentationScope scope, RetryPolicy retry_policy,
                                 size_t max_request_bytes)
    : transport_(std::move(transport)),
      timeout_(timeout),
      resource_(std::move(resource)),
      scope_(std::move(scope)),
      retry_policy_(retry_policy),
      max_request_bytes_(max_request_bytes),
      rng_(std::random_device{}()) {}

OtlpLogExporter::~OtlpLogExporter() { Shutdown(std::chrono::seconds(1)); }

std::string OtlpLogExporter::Describe() const { return transport_->Describe(); }

ExportResult OtlpLogExporter::Export(Records records) {
  {
    std::lock_guard lock(mutex_);
    if (shutdown_) {
      Add(counters_.records_failed, records.size());
      return ExportResult::kFailure;
    }
    export_running_ = true;
  }
  bool ok = ExportPart(records, Now() + timeout_);
  {
    std::lock_guard lock(mutex_);
    export_running_ = false;
  }
  changed_.notify_all();
  return ok ? ExportResult::kSuccess : ExportResult::kFailure;
}

bool OtlpLogExporter::ExportPart(Records records, SteadyTime deadline) {
  if (records.empty()) return true;
  LogBatch batch{&resource_, &scope_, records};
  std::unique_ptr<OtlpRequest> request =
      transport_->EncodeBody([&batch](bool json, std::string* out) {
        json ? AppendOtlpLogsJson(batch, out) : AppendOtlpLogsProtobuf(batch, out);
      });
  if (request == nullptr) return false;
  if (request->ByteSize() > max_request_bytes_) {
    if (records.size() <= 1) {
      LANTERN_LOG(kWarning, kLog) << "dropped a log record: its request is " << request->ByteSize()
                                  << " bytes, over the limit of " << max_request_bytes_;
      Add(counters_.records_failed, 1);
      return false;
    }
    request.reset();
    const size_t half = records.size() / 2;
    bool first_ok = ExportPart(records.first(half), deadline);
    bool second_ok = ExportPart(records.subspan(half), deadline);
    return first_ok && second_ok;
  }
  return SendWithRetries(*request, records.size(), deadline);
}

bool OtlpLogExporter::SendWithRetries(const OtlpRequest& request, size_t count,
                                      SteadyTime deadline) {
  for (int retry = 0;; ++retry) {
    Add(counters_.requests_sent, 1);
    SendOutcome outcome = transport_->Send(request, deadline);
    switch (outcome.kind) {
      case SendOutcome::Kind::kOk: {
        // partial_success's rejected_log_records is field 1, like rejected_spans.
        auto rejected = static_cast<uint64_t>(
            std::clamp<int64_t>(outcome.rejected_spans, 0, static_cast<int64_t>(count)));
        if (rejected > 0 || !outcome.message.empty()) {
          LANTERN_LOG(kWarning, kLog)
              << transport_->Describe() << ": the collector rejected " << rejected << " of "
              << count << " log records: " << outcome.message;
        }
        Add(counters_.records_rejected, rejected);
        Add(counters_.records_exported, count - rejected);
        return true;
      }
      case SendOutcome::Kind::kFailed:
      case SendOutcome::Kind::kCancelled:
        LANTERN_LOG_AT(DropLogLevel(outcome), kLog) << transport_->Describe() << ": dropped "
                                                    << count << " log records: " << outcome.message;
        Add(counters_.records_failed, count);
        return false;
      case SendOutcome::Kind::kRetryable:
        break;
    }
    std::chrono::milliseconds delay =
        outcome.retry_after ? *outcome.retry_after : BackoffDelay(retry_policy_, retry, rng_);
    if (Now() + delay >= deadline) {
      LANTERN_LOG_AT(DropLogLevel(outcome), kLog)
          << transport_->Describe() << ": dropped " << count << " log records: " << outcome.message
          << " (no time left to retry within the " << timeout_.count() << " ms export timeout)";
      Add(counters_.records_timed_out, count);
      return false;
    }
    if (!SleepUntil(Now() + delay)) {
      Add(counters_.records_failed, count);
      return false;
    }
    Add(counters_.retries, 1);
  }
}

bool OtlpLogExporter::SleepUntil(SteadyTime until) {
  std::unique_lock lock(mutex_);
  changed_.wait_until(lock, until, [this] { return shutdown_; });
  return !shutdown_;
}

bool OtlpLogExporter::Shutdown(std::chrono::microseconds timeout) {
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

OtlpLogExporterStats OtlpLogExporter::stats() const {
  OtlpLogExporterStats stats;
  stats.requests_sent = Load(counters_.requests_sent);
  stats.retries = Load(counters_.retries);
  stats.records_exported = Load(counters_.records_exported);
  stats.records_rejected = Load(counters_.records_rejected);
  stats.records_failed = Load(counters_.records_failed);
  stats.records_timed_out = Load(counters_.records_timed_out);
  return stats;
}

Result<std::unique_ptr<OtlpLogExporter>> CreateOtlpLogExporter(const OtlpExporterOptions& options,
                                                               Resource resource,
                                                               InstrumentationScope scope,
                                                               RetryPolicy retry_policy) {
  OtlpExporterOptions logs_options = options;
  logs_options.signal = OtlpSignal::kLogs;
  Result<std::unique_ptr<OtlpTransport>> transport = logs_options.protocol == OtlpProtocol::kGrpc
                                                         ? CreateOtlpGrpcTransport(logs_options)
                                                         : CreateOtlpHttpTransport(logs_options);
  if (!transport.ok()) return transport.status();
  LANTERN_LOG(kInfo, kLog) << "exporting logs with " << (*transport)->Describe() << ", timeout "
                           << options.timeout.count() << " ms";
  return std::make_unique<OtlpLogExporter>(std::move(transport).value(), options.timeout,
                                           std::move(resource), std::move(scope), retry_policy);
}

}  // namespace lantern::telemetry
