// The OTLP metric exporter (gRPC, HTTP/protobuf, HTTP/JSON): the same transports, retry
// policy, export timeout and 64 MiB request limit as the span exporter; a collection too
// large for one request is split by metric. No gRPC, protobuf or curl types appear here.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "telemetry/metric_reader.h"
#include "telemetry/otlp_config.h"
#include "telemetry/otlp_delivery.h"
#include "telemetry/otlp_retry.h"

namespace lantern::telemetry {

class OtlpTransport;

struct OtlpMetricExporterStats {
  uint64_t requests_sent = 0;     // send attempts, retries included
  uint64_t retries = 0;           // attempts after a retryable failure
  uint64_t points_exported = 0;   // accepted by the collector
  uint64_t points_rejected = 0;   // refused inside an accepted request (partial success)
  uint64_t points_failed = 0;     // dropped: non-retryable failure, shutdown, too large
  uint64_t points_timed_out = 0;  // dropped: still failing when the export timeout ran out
};

class OtlpMetricExporter final : public MetricExporter {
 public:
  static constexpr size_t kMaxRequestBytes = 64u << 20;

  OtlpMetricExporter(std::unique_ptr<OtlpTransport> transport, std::chrono::milliseconds timeout,
                     RetryPolicy retry_policy = {}, size_t max_request_bytes = kMaxRequestBytes);
  ~OtlpMetricExporter() override;

  ExportResult Export(const ResourceMetrics& metrics) override;
  bool Shutdown(std::chrono::microseconds timeout) override;
  OtlpMetricExporterStats stats() const;
  std::string Describe() const;

 private:
  bool ExportPart(const ResourceMetrics& metrics, SteadyTime deadline);

  OtlpDelivery delivery_;
  const size_t max_request_bytes_;
};

// Builds the exporter for `options` (options.signal should be kMetrics). Never touches the
// network.
Result<std::unique_ptr<OtlpMetricExporter>> CreateOtlpMetricExporter(
    const OtlpExporterOptions& options, RetryPolicy retry_policy = {});

}  // namespace lantern::telemetry
