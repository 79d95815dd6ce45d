#include "telemetry/otlp_metric_exporter.h"

#include <algorithm>

#include "base/log.h"
#include "telemetry/otlp_grpc_transport.h"
#include "telemetry/otlp_http_transport.h"
#include "telemetry/otlp_metrics.h"
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

// Splits a collection in two halves by metric (the unit a collector cannot split).
std::pair<ResourceMetrics, ResourceMetrics> Halves(const ResourceMetrics& metrics) {
  std::vector<std::pair<const InstrumentationScope*, const MetricData*>> all;
  for (const ScopeMetrics& scope : metrics.scopes) {
    for (const MetricData& metric : scope.metrics) all.emplace_back(scope.scope, &metric);
  }
  std::pair<ResourceMetrics, ResourceMetrics> halves;
  halves.first.resource = halves.second.resource = metrics.resource;
  for (size_t i = 0; i < all.size(); ++i) {
    ResourceMetrics& half = i < all.size() / 2 ? halves.first : halves.second;
    if (half.scopes.empty() || half.scopes.back().scope != all[i].first) {
      half.scopes.push_back({all[i].first, {}});
    }
    half.scopes.back().metrics.push_back(*all[i].second);
  }
  return halves;
}

size_t MetricCount(const ResourceMetrics& metrics) {
  size_t n = 0;
  for (const ScopeMetrics& scope : metrics.scopes) n += scope.metrics.size();
  return n;
}

}  // namespace

OtlpMetricExporter::OtlpMetricExporter(std::unique_ptr<OtlpTransport> transport,
                                       std::chrono::milliseconds timeout, RetryPolicy retry_policy,
                                       size_t max_request_bytes)
    : transport_(std::move(transport)),
      timeout_(timeout),
      retry_policy_(retry_policy),
      max_request_bytes_(max_request_bytes),
      rng_(std::random_device{}()) {}

OtlpMetricExporter::~OtlpMetricExporter() { Shutdown(std::chrono::seconds(1)); }

std::string OtlpMetricExporter::Describe() const { return transport_->Describe(); }

ExportResult OtlpMetricExporter::Export(const ResourceMetrics& metrics) {
  {
    std::lock_guard lock(mutex_);
    if (shutdown_) {
      Add(counters_.points_failed, metrics.PointCount());
      return ExportResult::kFailure;
    }
    export_running_ = true;
  }
  bool ok = ExportPart(metrics, Now() + timeout_);
  {
    std::lock_guard lock(mutex_);
    export_running_ = false;
  }
  changed_.notify_all();
  return ok ? ExportResult::kSuccess : ExportResult::kFailure;
}

bool OtlpMetricExporter::ExportPart(const ResourceMetrics& metrics, SteadyTime deadline) {
  const size_t points = metrics.PointCount();
  if (points == 0) return true;
  std::unique_ptr<OtlpRequest> request =
      transport_->EncodeBody([&metrics](bool json, std::string* out) {
        json ? AppendOtlpMetricsJson(metrics, out) : AppendOtlpMetricsProtobuf(metrics, out);
      });
  if (request == nullptr) return false;
  if (request->ByteSize() > max_request_bytes_) {
    if (MetricCount(metrics) <= 1) {
      LANTERN_LOG(kWarning, kLog) << "dropped a metric of " << points << " points: its request is "
                                  << request->ByteSize() << " bytes, over the limit of "
                                  << max_request_bytes_;
      Add(counters_.points_failed, points);
      return false;
    }
    request.reset();
    auto [first, second] = Halves(metrics);
    bool first_ok = ExportPart(first, deadline);
    bool second_ok = ExportPart(second, deadline);
    return first_ok && second_ok;
  }
  return SendWithRetries(*request, points, deadline);
}

bool OtlpMetricExporter::SendWithRetries(const OtlpRequest& request, size_t points,
                                         SteadyTime deadline) {
  for (int retry = 0;; ++retry) {
    Add(counters_.requests_sent, 1);
    SendOutcome outcome = transport_->Send(request, deadline);
    switch (outcome.kind) {
      case SendOutcome::Kind::kOk: {
        // The response's partial_success has the same fields for every signal
        // (rejected_data_points is field 1 like rejected_spans).
        auto rejected = static_cast<uint64_t>(
            std::clamp<int64_t>(outcome.rejected_spans, 0, static_cast<int64_t>(points)));
        if (rejected > 0 || !outcome.message.empty()) {
          LANTERN_LOG(kWarning, kLog)
              << transport_->Describe() << ": the collector rejected " << rejected << " of "
              << points << " data points: " << outcome.message;
        }
        Add(counters_.points_rejected, rejected);
        Add(counters_.points_exported, points - rejected);
        return true;
      }
      case SendOutcome::Kind::kFailed:
      case SendOutcome::Kind::kCancelled:
        LANTERN_LOG_AT(DropLogLevel(outcome), kLog)
            << transport_->Describe() << ": dropped " << points
            << " data points: " << outcome.message;
        Add(counters_.points_failed, points);
        return false;
      case SendOutcome::Kind::kRetryable:
        break;
    }
    std::chrono::milliseconds delay =
        outcome.retry_after ? *outcome.retry_after : BackoffDelay(retry_policy_, retry, rng_);
    if (Now() + delay >= deadline) {
      LANTERN_LOG_AT(DropLogLevel(outcome), kLog)
          << transport_->Describe() << ": dropped " << points << " data points: " << outcome.message
          << " (no time left to retry within the " << timeout_.count() << " ms export timeout)";
      Add(counters_.points_timed_out, points);
      return false;
    }
    if (!SleepUntil(Now() + delay)) {
      Add(counters_.points_failed, points);
      return false;
    }
    Add(counters_.retries, 1);
  }
}

bool OtlpMetricExporter::SleepUntil(SteadyTime until) {
  std::unique_lock lock(mutex_);
  changed_.wait_until(lock, until, [this] { return shutdown_; });
  return !shutdown_;
}

bool OtlpMetricExporter::Shutdown(std::chrono::microseconds timeout) {
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

OtlpMetricExporterStats OtlpMetricExporter::stats() const {
  OtlpMetricExporterStats stats;
  stats.requests_sent = Load(counters_.requests_sent);
  stats.retries = Load(counters_.retries);
  stats.points_exported = Load(counters_.points_exported);
  stats.points_rejected = Load(counters_.points_rejected);
  stats.points_failed = Load(counters_.points_failed);
  stats.points_timed_out = Load(counters_.points_timed_out);
  return stats;
}

Result<std::unique_ptr<OtlpMetricExporter>> CreateOtlpMetricExporter(
    const OtlpExporterOptions& options, RetryPolicy retry_policy) {
  OtlpExporterOptions metrics_options = options;
  metrics_options.signal = OtlpSignal::kMetrics;
  Result<std::unique_ptr<OtlpTransport>> transport = metrics_options.protocol == OtlpProtocol::kGrpc
                                                         ? CreateOtlpGrpcTransport(metrics_options)
                                                         : CreateOtlpHttpTransport(metrics_options);
  if (!transport.ok()) return transport.status();
  LANTERN_LOG(kInfo, kLog) << "exporting metrics with " << (*transport)->Describe() << ", timeout "
                           << options.timeout.count() << " ms";
  return std::make_unique<OtlpMetricExporter>(std::move(transport).value(), options.timeout,
                                              retry_policy);
}

}  // namespace lantern::telemetry
