// Base-2 exponential histogram buckets (the OpenTelemetry data model's): bucket i at scale
// s covers (2^(i·2^-s), 2^((i+1)·2^-s)]. Starts at the finest scale and halves the
// resolution whenever the recorded range would need more than max_size buckets, so a
// histogram needs no boundaries chosen in advance and keeps ~4% relative error at 160
// buckets over a 1000x range.
#pragma once

#include <cstdint>
#include <vector>

#include "telemetry/metric_data.h"

namespace lantern::telemetry {

// The bucket index of |value| > 0 at `scale` (exact at powers of two, which fall in the
// bucket they close).
int32_t ExponentialBucketIndex(double value, int32_t scale);
// The lower boundary of bucket `index` at `scale` (its upper is index + 1's lower).
double ExponentialBucketLowerBound(int32_t index, int32_t scale);

class ExponentialHistogramBuckets {
 public:
  ExponentialHistogramBuckets(int max_size, int max_scale);

  void Record(double value);
  // Copies the state into `out` (scale, zero count, both bucket ranges).
  void Snapshot(ExponentialHistogramPointData* out) const;
  void Reset();
  int32_t scale() const { return scale_; }
  // The bucket `value` falls in at the current scale (for exemplar slots).
  int32_t IndexOf(double value) const { return ExponentialBucketIndex(value, scale_); }

 private:
  struct Range {
    int32_t offset = 0;
    std::vector<uint64_t> counts;  // counts[i] is bucket offset + i
  };
  // Halves the resolution `change` times for both signs.
  void Downscale(int change);
  // How many halvings make [low, high] fit into max_size buckets.
  int ChangeNeeded(int64_t low, int64_t high) const;
  void Add(Range& range, double magnitude);

  const int max_size_;
  const int max_scale_;
  int32_t scale_;
  uint64_t zero_count_ = 0;
  Range positive_;
  Range negative_;
};

}  // namespace lantern::telemetry
