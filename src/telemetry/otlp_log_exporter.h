// The OTLP log exporter (gRPC, HTTP/protobuf, HTTP/JSON): the same transports, retry
// policy, export timeout and 64 MiB request limit as the span exporter; a batch too large
// for one request is split in halves. No gRPC, protobuf or curl types appear here.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "telemetry/log_exporter.h"
#include "telemetry/otlp_config.h"
#include "telemetry/otlp_delivery.h"
#include "telemetry/otlp_retry.h"

namespace lantern::telemetry {

class OtlpTransport;

struct OtlpLogExporterStats {
  uint64_t requests_sent = 0;      // send attempts, retries included
  uint64_t retries = 0;            // attempts after a retryable failure
  uint64_t records_exported = 0;   // accepted by the collector
  uint64_t records_rejected = 0;   // refused inside an accepted request (partial success)
  uint64_t records_failed = 0;     // dropped: non-retryable failure, shutdown, too large
  uint64_t records_timed_out = 0;  // dropped: still failing when the export timeout ran out
};

class OtlpLogExporter final : public LogRecordExporter {
 public:
  static constexpr size_t kMaxRequestBytes = 64u << 20;

  OtlpLogExporter(std::unique_ptr<OtlpTransport> transport, std::chrono::milliseconds timeout,
                  Resource resource, InstrumentationScope scope, RetryPolicy retry_policy = {},
                  size_t max_request_bytes = kMaxRequestBytes);
  ~OtlpLogExporter() override;

  ExportResult Export(std::span<const std::unique_ptr<LogRecordData>> records) override;
  bool Shutdown(std::chrono::microseconds timeout) override;
  OtlpLogExporterStats stats() const;
  std::string Describe() const;

 private:
  using Records = std::span<const std::unique_ptr<LogRecordData>>;
  bool ExportPart(Records records, SteadyTime deadline);

  OtlpDelivery delivery_;
  const Resource resource_;
  const InstrumentationScope scope_;
  const size_t max_request_bytes_;
};

// Builds the exporter for `options` (its signal is set to kLogs). Never touches the network.
Result<std::unique_ptr<OtlpLogExporter>> CreateOtlpLogExporter(const OtlpExporterOptions& options,
                                                               Resource resource,
                                                               InstrumentationScope scope,
                                                               RetryPolicy retry_policy = {});

}  // namespace lantern::telemetry
