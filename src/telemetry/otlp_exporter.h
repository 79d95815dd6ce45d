// The OTLP span exporter (gRPC or HTTP): encodes a batch, splits requests over 64 MiB,
// retries transient failures with backoff within the export timeout, and counts what it
// delivered, retried and dropped. No gRPC, protobuf or curl types appear here.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "telemetry/exporter.h"
#include "telemetry/otlp_config.h"
#include "telemetry/otlp_delivery.h"
#include "telemetry/otlp_retry.h"

namespace lantern::telemetry {

class OtlpTransport;

// What one exporter did, for tests, benchmarks and logs. The process-wide health counters
// (telemetry/health.h) get the retries and the rejected and oversized spans as well.
struct OtlpExporterStats {
  uint64_t requests_sent = 0;         // send attempts, retries included
  uint64_t retries = 0;               // attempts after a retryable failure
  uint64_t spans_exported = 0;        // accepted by the collector
  uint64_t spans_rejected = 0;        // refused inside an accepted request (partial success)
  uint64_t spans_failed = 0;          // dropped: a non-retryable failure
  uint64_t spans_timed_out = 0;       // dropped: still failing when the export timeout ran out
  uint64_t spans_too_large = 0;       // dropped: one span alone exceeded the request limit
  uint64_t spans_after_shutdown = 0;  // dropped: Export called after Shutdown
};

class OtlpExporter final : public SpanExporter {
 public:
  // Requests larger than this are split in halves; a single span larger than it is dropped.
  static constexpr size_t kMaxRequestBytes = 64u << 20;

  OtlpExporter(std::unique_ptr<OtlpTransport> transport, std::chrono::milliseconds timeout,
               RetryPolicy retry_policy = {}, size_t max_request_bytes = kMaxRequestBytes);
  ~OtlpExporter() override;

  ExportResult Export(std::span<const std::unique_ptr<SpanData>> spans) override;
  bool ForceFlush(std::chrono::microseconds timeout) override { return true; }
  // Aborts an export in progress and waits (up to `timeout`) for it to return.
  bool Shutdown(std::chrono::microseconds timeout) override;

  OtlpExporterStats stats() const;

 private:
  bool ExportChunk(std::span<const SpanData* const> spans, SteadyTime deadline);

  OtlpDelivery delivery_;
  const size_t max_request_bytes_;
  std::atomic<uint64_t> spans_too_large_{0}, spans_after_shutdown_{0};
};

// Builds the gRPC or HTTP exporter for `options` (CreateOtlpSpanExporter in otlp_config.h
// returns the same object as a SpanExporter). Errors name an unusable endpoint or an
// unreadable certificate file. Never touches the network.
Result<std::unique_ptr<OtlpExporter>> CreateOtlpExporter(const OtlpExporterOptions& options,
                                                         RetryPolicy retry_policy = {});

}  // namespace lantern::telemetry
