// Retry decisions and backoff of the OTLP exporters (otlp_retry.h).
#include "telemetry/otlp_retry.h"

#include <set>

#include <gtest/gtest.h>

namespace lantern::telemetry {
namespace {

TEST(OtlpRetry, RetryableGrpcCodesAreTheSpecificationsList) {
  // grpc::StatusCode numbering: 0 OK ... 16 UNAUTHENTICATED.
  const bool expected[17] = {false, true, false, false, true,  false, false, false, false,
                             false, true, true,  false, false, true,  true,  false};
  for (int code = 0; code <= 16; ++code) {
    EXPECT_EQ(IsRetryableGrpcCode(code, /*has_retry_info=*/false), expected[code]) << code;
  }
  EXPECT_TRUE(IsRetryableGrpcCode(8, /*has_retry_info=*/true));   // RESOURCE_EXHAUSTED
  EXPECT_FALSE(IsRetryableGrpcCode(3, /*has_retry_info=*/true));  // INVALID_ARGUMENT
}

TEST(OtlpRetry, RetryableHttpStatuses) {
  for (long status : {429L, 502L, 503L, 504L}) EXPECT_TRUE(IsRetryableHttpStatus(status));
  for (long status : {200L, 400L, 401L, 403L, 404L, 413L, 500L, 501L}) {
    EXPECT_FALSE(IsRetryableHttpStatus(status)) << status;
  }
}

TEST(OtlpRetry, RetryAfterSeconds) {
  EXPECT_EQ(ParseRetryAfterSeconds("0"), std::chrono::milliseconds(0));
  EXPECT_EQ(ParseRetryAfterSeconds(" 12\r\n"), std::chrono::milliseconds(12000));
  EXPECT_EQ(ParseRetryAfterSeconds("99999999"), std::chrono::milliseconds(24 * 3600 * 1000));
  EXPECT_FALSE(ParseRetryAfterSeconds(""));
  EXPECT_FALSE(ParseRetryAfterSeconds("-1"));
  EXPECT_FALSE(ParseRetryAfterSeconds("1.5"));
  EXPECT_FALSE(ParseRetryAfterSeconds("Wed, 21 Oct 2015 07:28:00 GMT"));
}

TEST(OtlpRetry, BackoffGrowsByTheMultiplierUpToTheCapWithBoundedJitter) {
  RetryPolicy policy;  // 1 s, x1.5, 5 s cap, +-20 %
  std::mt19937_64 rng(42);
  const double bases[] = {1000, 1500, 2250, 3375, 5000, 5000, 5000};
  for (int retry = 0; retry < 7; ++retry) {
    for (int sample = 0; sample < 200; ++sample) {
      double delay = static_cast<double>(BackoffDelay(policy, retry, rng).count());
      EXPECT_GE(delay, bases[retry] * 0.8 - 1) << retry;
      EXPECT_LE(delay, bases[retry] * 1.2) << retry;
    }
  }
  // Jitter spreads retries: 200 draws are not all the same.
  std::set<int64_t> distinct;
  for (int i = 0; i < 200; ++i) distinct.insert(BackoffDelay(policy, 0, rng).count());
  EXPECT_GT(distinct.size(), 50u);
}

}  // namespace
}  // namespace lantern::telemetry
