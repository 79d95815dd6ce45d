// When and how long OTLP exporters wait before retrying: exponential backoff with jitter,
// the retryable gRPC codes and HTTP statuses of the OTLP specification, Retry-After.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string_view>

namespace lantern::telemetry {

struct RetryPolicy {
  // The OTLP exporters of the OpenTelemetry SDKs use these defaults.
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{5000};
  double multiplier = 1.5;
  double jitter = 0.2;  // each delay is scaled by a uniform factor in [1-jitter, 1+jitter]
};

// The delay before retry number `retry` (0 for the first retry).
std::chrono::milliseconds BackoffDelay(const RetryPolicy& policy, int retry, std::mt19937_64& rng);

// gRPC status codes (grpc::StatusCode values) the OTLP specification calls retryable.
// RESOURCE_EXHAUSTED is retryable only when the server sent a RetryInfo (it can recover).
bool IsRetryableGrpcCode(int code, bool has_retry_info);

// HTTP statuses the OTLP specification calls retryable: 429, 502, 503, 504.
bool IsRetryableHttpStatus(long status);

// Retry-After in its delta-seconds form ("120"); nullopt when it is not one.
std::optional<std::chrono::milliseconds> ParseRetryAfterSeconds(std::string_view value);

}  // namespace lantern::telemetry
