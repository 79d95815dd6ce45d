// Base-2 exponential buckets: the index mapping at positive, zero and negative scales
// (exact at powers of two) and rescaling to stay within max_size buckets.
#include "telemetry/exponential_histogram.h"

#include <gtest/gtest.h>

#include <cmath>

namespace lantern::telemetry {
namespace {

TEST(ExponentialHistogramTest, IndexAtScaleZeroAndBelow) {
  // Scale 0: bucket i is (2^i, 2^(i+1)]; powers of two close the bucket below them.
  EXPECT_EQ(ExponentialBucketIndex(1.0, 0), -1);
  EXPECT_EQ(ExponentialBucketIndex(1.5, 0), 0);
  EXPECT_EQ(ExponentialBucketIndex(2.0, 0), 0);
  EXPECT_EQ(ExponentialBucketIndex(2.5, 0), 1);
  EXPECT_EQ(ExponentialBucketIndex(0.75, 0), -1);
  EXPECT_EQ(ExponentialBucketIndex(0.5, 0), -2);
  // Scale -1: base 4.
  EXPECT_EQ(ExponentialBucketIndex(4.0, -1), 0);
  EXPECT_EQ(ExponentialBucketIndex(5.0, -1), 1);
  EXPECT_EQ(ExponentialBucketIndex(1.0, -1), -1);
}

TEST(ExponentialHistogramTest, IndexAtPositiveScalesMatchesBoundaries) {
  for (int scale : {1, 3, 8, 20}) {
    for (double value : {1e-9, 0.001, 0.3, 1.0, 1.0000001, 3.0, 1000.0, 12345.678, 1e12}) {
      int32_t index = ExponentialBucketIndex(value, scale);
      EXPECT_LT(ExponentialBucketLowerBound(index, scale), value * (1 + 1e-12))
          << value << " at scale " << scale;
      EXPECT_GE(ExponentialBucketLowerBound(index + 1, scale), value * (1 - 1e-12))
          << value << " at scale " << scale;
    }
    // Exact powers of two are the upper boundary of their bucket.
    EXPECT_EQ(ExponentialBucketIndex(8.0, scale), (3 << scale) - 1);
  }
}

TEST(ExponentialHistogramTest, RescalesToFitMaxSize) {
  ExponentialHistogramBuckets buckets(/*max_size=*/20, /*max_scale=*/20);
  buckets.Record(1.0);
  EXPECT_EQ(buckets.scale(), 20);
  buckets.Record(1000.0);  // ~10 doublings apart: scale 1 gives 20 buckets
  ExponentialHistogramPointData point;
  buckets.Snapshot(&point);
  EXPECT_LE(point.positive.counts.size(), 20u);
  EXPECT_EQ(point.scale, 0);  // 1 -> bucket -1, 1000 -> bucket 9: 11 buckets at scale 0
  uint64_t total = 0;
  for (uint64_t c : point.positive.counts) total += c;
  EXPECT_EQ(total, 2u);
  EXPECT_EQ(point.positive.offset, -1);
  EXPECT_EQ(point.positive.counts.front(), 1u);
  EXPECT_EQ(point.positive.counts.back(), 1u);
}

TEST(ExponentialHistogramTest, ZeroNegativeAndReset) {
  ExponentialHistogramBuckets buckets(160, 20);
  buckets.Record(0);
  buckets.Record(-2);
  buckets.Record(2);
  buckets.Record(std::nan(""));
  ExponentialHistogramPointData point;
  buckets.Snapshot(&point);
  EXPECT_EQ(point.zero_count, 1u);
  ASSERT_EQ(point.negative.counts.size(), 1u);
  ASSERT_EQ(point.positive.counts.size(), 1u);
  EXPECT_EQ(point.positive.offset, point.negative.offset);
  buckets.Reset();
  buckets.Snapshot(&point);
  EXPECT_EQ(point.zero_count, 0u);
  EXPECT_TRUE(point.positive.counts.empty());
  EXPECT_EQ(point.scale, 20);
}

}  // namespace
}  // namespace lantern::telemetry
