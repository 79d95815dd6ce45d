#include "telemetry/otlp_metric_exporter.h"

#include "base/log.h"
#include "telemetry/otlp_grpc_transport.h"
#include "telemetry/otlp_http_transport.h"
#include "telemetry/otlp_metrics.h"
#include "telemetry/otlp_transport.h"

namespace lantern::telemetry {
namespace {

constexpr char kLog[] = "otlp";

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
    : delivery_(std::move(transport), timeout, retry_policy, "data points"),
      max_request_bytes_(max_request_bytes) {}

OtlpMetricExporter::~OtlpMetricExporter() { Shutdown(std::chrono::seconds(1)); }

std::string OtlpMetricExporter::Describe() const { return delivery_.transport().Describe(); }

ExportResult OtlpMetricExporter::Export(const ResourceMetrics& metrics) {
  if (!delivery_.BeginExport()) {
    delivery_.CountFailed(metrics.PointCount());
    return ExportResult::kFailure;
  }
  bool ok = ExportPart(metrics, delivery_.ExportDeadline());
  delivery_.EndExport();
  return ok ? ExportResult::kSuccess : ExportResult::kFailure;
}

bool OtlpMetricExporter::ExportPart(const ResourceMetrics& metrics, SteadyTime deadline) {
  const size_t points = metrics.PointCount();
  if (points == 0) return true;
  std::unique_ptr<OtlpRequest> request =
      delivery_.transport().EncodeBody([&metrics](bool json, std::string* out) {
        json ? AppendOtlpMetricsJson(metrics, out) : AppendOtlpMetricsProtobuf(metrics, out);
      });
  if (request == nullptr) return false;
  if (request->ByteSize() > max_request_bytes_) {
    if (MetricCount(metrics) <= 1) {
      LANTERN_LOG(kWarning, kLog) << "dropped a metric of " << points << " points: its request is "
                                  << request->ByteSize() << " bytes, over the limit of "
                                  << max_request_bytes_;
      delivery_.CountFailed(points);
      return false;
    }
    request.reset();
    auto [first, second] = Halves(metrics);
    bool first_ok = ExportPart(first, deadline);
    bool second_ok = ExportPart(second, deadline);
    return first_ok && second_ok;
  }
  return delivery_.Send(*request, points, deadline);
}

bool OtlpMetricExporter::Shutdown(std::chrono::microseconds timeout) {
  return delivery_.Shutdown(timeout);
}

OtlpMetricExporterStats OtlpMetricExporter::stats() const {
  OtlpDeliveryCounts c = delivery_.counts();
  return {.requests_sent = c.requests_sent,
          .retries = c.retries,
          .points_exported = c.exported,
          .points_rejected = c.rejected,
          .points_failed = c.failed,
          .points_timed_out = c.timed_out};
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
