// Delivery of encoded OTLP requests for one exporter, whatever the signal (spans, metric
// points, log records): sends with the retry policy until the export's deadline, counts
// what became of the items, and lets Shutdown cancel a send in flight, wake a backoff sleep
// and wait for the export to return. The exporters keep only what differs between signals:
// encoding and splitting a batch that is too large for one request.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "base/clock.h"
#include "telemetry/otlp_retry.h"

namespace lantern::telemetry {

class OtlpTransport;
class OtlpRequest;

struct OtlpDeliveryCounts {
  uint64_t requests_sent = 0;  // send attempts, retries included
  uint64_t retries = 0;        // attempts after a retryable failure
  uint64_t exported = 0;       // items accepted by the collector
  uint64_t rejected = 0;       // refused inside an accepted request (partial success)
  uint64_t failed = 0;         // dropped: a non-retryable failure, shutdown, too large
  uint64_t timed_out = 0;      // dropped: still failing when the export timeout ran out
};

// Process-wide counters a signal also feeds (the span exporter's telemetry/health.h).
struct OtlpDeliveryHooks {
  void (*rejected)(uint64_t count) = nullptr;
  void (*retried)() = nullptr;
};

class OtlpDelivery {
 public:
  // `items` names the signal's unit in log lines: "spans", "data points", "log records".
  OtlpDelivery(std::unique_ptr<OtlpTransport> transport, std::chrono::milliseconds timeout,
               RetryPolicy retry_policy, std::string items, OtlpDeliveryHooks hooks = {});
  OtlpDelivery(const OtlpDelivery&) = delete;
  OtlpDelivery& operator=(const OtlpDelivery&) = delete;
  ~OtlpDelivery();

  // Brackets one export so that Shutdown can wait for it. False once shut down: the
  // caller counts its items as lost and returns.
  bool BeginExport();
  void EndExport();
  SteadyTime ExportDeadline() const { return Now() + timeout_; }

  // Sends `request` carrying `count` items until it is accepted, fails for good, the
  // deadline leaves no time for the next retry, or Shutdown. True when accepted (items
  // rejected inside an accepted request are counted and logged, not a failure).
  bool Send(const OtlpRequest& request, size_t count, SteadyTime deadline);
  void CountFailed(uint64_t count) { Add(counters_.failed, count); }

  // Aborts a send in progress and waits up to `timeout` for the export to return.
  bool Shutdown(std::chrono::microseconds timeout);

  OtlpTransport& transport() const { return *transport_; }
  std::chrono::milliseconds timeout() const { return timeout_; }
  OtlpDeliveryCounts counts() const;

 private:
  static void Add(std::atomic<uint64_t>& counter, uint64_t n) {
    counter.fetch_add(n, std::memory_order_relaxed);
  }
  // Sleeps until `until` or Shutdown; false when shut down.
  bool SleepUntil(SteadyTime until);

  const std::unique_ptr<OtlpTransport> transport_;
  const std::chrono::milliseconds timeout_;
  const RetryPolicy retry_policy_;
  const std::string items_;
  const OtlpDeliveryHooks hooks_;
  std::mt19937_64 rng_;  // used by the one export running at a time
  struct Counters {
    std::atomic<uint64_t> requests_sent{0}, retries{0}, exported{0}, rejected{0}, failed{0},
        timed_out{0};
  } counters_;

  std::mutex mutex_;
  std::condition_variable changed_;
  bool shutdown_ = false;        // guarded by mutex_
  bool export_running_ = false;  // guarded by mutex_
};

}  // namespace lantern::telemetry
