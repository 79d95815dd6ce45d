#include "telemetry/otlp_retry.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace lantern::telemetry {

std::chrono::milliseconds BackoffDelay(const RetryPolicy& policy, int retry, std::mt19937_64& rng) {
  double base = static_cast<double>(policy.initial_backoff.count()) *
                std::pow(policy.multiplier, std::max(retry, 0));
  base = std::min(base, static_cast<double>(policy.max_backoff.count()));
  std::uniform_real_distribution<double> factor(1.0 - policy.jitter, 1.0 + policy.jitter);
  return std::chrono::milliseconds(static_cast<int64_t>(base * factor(rng)));
}

bool IsRetryableGrpcCode(int code, bool has_retry_info) {
  switch (code) {
    case 1:   // CANCELLED
    case 4:   // DEADLINE_EXCEEDED
    case 10:  // ABORTED
    case 11:  // OUT_OF_RANGE
    case 14:  // UNAVAILABLE
    case 15:  // DATA_LOSS
      return true;
    case 8:  // RESOURCE_EXHAUSTED
      return has_retry_info;
    default:
      return false;
  }
}

bool IsRetryableHttpStatus(long status) {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

std::optional<std::chrono::milliseconds> ParseRetryAfterSeconds(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r' ||
                            value.back() == '\n')) {
    value.remove_suffix(1);
  }
  int64_t seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || seconds < 0) {
    return std::nullopt;
  }
  // Bound absurd values; the export deadline cuts the wait short anyway.
  seconds = std::min<int64_t>(seconds, 24 * 3600);
  return std::chrono::milliseconds(seconds * 1000);
}

}  // namespace lantern::telemetry
