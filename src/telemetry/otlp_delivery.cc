#include "telemetry/otlp_delivery.h"

#include <algorithm>

#include "base/log.h"
#include "telemetry/otlp_transport.h"

namespace lantern::telemetry {
namespace {

constexpr char kLog[] = "otlp";

uint64_t Load(const std::atomic<uint64_t>& counter) {
  return counter.load(std::memory_order_relaxed);
}

}  // namespace

OtlpDelivery::OtlpDelivery(std::unique_ptr<OtlpTransport> transport,
                           std::chrono::milliseconds timeout, RetryPolicy retry_policy,
                           std::string items, OtlpDeliveryHooks hooks)
    : transport_(std::move(transport)),
      timeout_(timeout),
      retry_policy_(retry_policy),
      items_(std::move(items)),
      hooks_(hooks),
      rng_(std::random_device{}()) {}

OtlpDelivery::~OtlpDelivery() = default;

bool OtlpDelivery::BeginExport() {
  std::lock_guard lock(mutex_);
  if (shutdown_) return false;
  export_running_ = true;
  return true;
}

void OtlpDelivery::EndExport() {
  {
    std::lock_guard lock(mutex_);
    export_running_ = false;
  }
  changed_.notify_all();
}

bool OtlpDelivery::Send(const OtlpRequest& request, size_t count, SteadyTime deadline) {
  for (int retry = 0;; ++retry) {
    Add(counters_.requests_sent, 1);
    SendOutcome outcome = transport_->Send(request, deadline);
    switch (outcome.kind) {
      case SendOutcome::Kind::kOk: {
        // Every signal's partial_success has its rejected count as field 1.
        auto rejected = static_cast<uint64_t>(
            std::clamp<int64_t>(outcome.rejected_spans, 0, static_cast<int64_t>(count)));
        if (rejected > 0 || !outcome.message.empty()) {
          LANTERN_LOG(kWarning, kLog)
              << transport_->Describe() << ": the collector rejected " << rejected << " of "
              << count << " " << items_ << ": " << outcome.message;
        }
        if (rejected > 0) {
          Add(counters_.rejected, rejected);
          if (hooks_.rejected != nullptr) hooks_.rejected(rejected);
        }
        Add(counters_.exported, count - rejected);
        return true;
      }
      case SendOutcome::Kind::kFailed:
      case SendOutcome::Kind::kCancelled:
        LANTERN_LOG_AT(DropLogLevel(outcome), kLog)
            << transport_->Describe() << ": dropped " << count << " " << items_ << ": "
            << outcome.message;
        Add(counters_.failed, count);
        return false;
      case SendOutcome::Kind::kRetryable:
        break;
    }
    std::chrono::milliseconds delay =
        outcome.retry_after ? *outcome.retry_after : BackoffDelay(retry_policy_, retry, rng_);
    SteadyTime retry_at = Now() + delay;
    if (retry_at >= deadline) {
      LANTERN_LOG_AT(DropLogLevel(outcome), kLog)
          << transport_->Describe() << ": dropped " << count << " " << items_ << ": "
          << outcome.message << " (no time left to retry within the " << timeout_.count()
          << " ms export timeout)";
      Add(counters_.timed_out, count);
      return false;
    }
    LANTERN_LOG(kDebug, kLog) << transport_->Describe() << ": " << outcome.message
                              << "; retrying in " << delay.count() << " ms";
    if (!SleepUntil(retry_at)) {
      Add(counters_.failed, count);
      return false;
    }
    Add(counters_.retries, 1);
    if (hooks_.retried != nullptr) hooks_.retried();
  }
}

bool OtlpDelivery::SleepUntil(SteadyTime until) {
  std::unique_lock lock(mutex_);
  changed_.wait_until(lock, until, [this] { return shutdown_; });
  return !shutdown_;
}

bool OtlpDelivery::Shutdown(std::chrono::microseconds timeout) {
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

OtlpDeliveryCounts OtlpDelivery::counts() const {
  return {.requests_sent = Load(counters_.requests_sent),
          .retries = Load(counters_.retries),
          .exported = Load(counters_.exported),
          .rejected = Load(counters_.rejected),
          .failed = Load(counters_.failed),
          .timed_out = Load(counters_.timed_out)};
}

}  // namespace lantern::telemetry
