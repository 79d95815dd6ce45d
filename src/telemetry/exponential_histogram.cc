#include "telemetry/exponential_histogram.h"

#include <algorithm>
#include <cmath>

namespace lantern::telemetry {

int32_t ExponentialBucketIndex(double value, int32_t scale) {
  int exponent = 0;
  double fraction = std::frexp(value, &exponent);  // value = fraction·2^exponent, [0.5, 1)
  if (scale <= 0) {
    // Powers of two close the bucket below them: 2^e is in bucket e-1 at scale 0.
    int32_t index = fraction == 0.5 ? exponent - 2 : exponent - 1;
    return index >> -scale;  // arithmetic shift: floor division by 2^-scale
  }
  if (fraction == 0.5) return ((exponent - 1) << scale) - 1;
  // ceil(log2(value)·2^scale) - 1, computed through the natural log; correct the rare
  // off-by-one from rounding near a boundary with the exact boundary test.
  const double scale_factor = std::ldexp(1.0 / std::log(2.0), scale);
  auto index = static_cast<int32_t>(std::ceil(std::log(value) * scale_factor) - 1);
  if (value <= ExponentialBucketLowerBound(index, scale)) return index - 1;
  if (value > ExponentialBucketLowerBound(index + 1, scale)) return index + 1;
  return index;
}

double ExponentialBucketLowerBound(int32_t index, int32_t scale) {
  if (scale <= 0) return std::ldexp(1.0, index << -scale);
  return std::exp2(std::ldexp(static_cast<double>(index), -scale));
}

ExponentialHistogramBuckets::ExponentialHistogramBuckets(int max_size, int max_scale)
    : max_size_(std::max(max_size, 2)), max_scale_(max_scale), scale_(max_scale) {}

void ExponentialHistogramBuckets::Reset() {
  scale_ = max_scale_;
  zero_count_ = 0;
  positive_ = Range();
  negative_ = Range();
}

int ExponentialHistogramBuckets::ChangeNeeded(int64_t low, int64_t high) const {
  int change = 0;
  while (high - low + 1 > max_size_) {
    low >>= 1;
    high >>= 1;
    ++change;
  }
  return change;
}

void ExponentialHistogramBuckets::Downscale(int change) {
  if (change <= 0) return;
  for (Range* range : {&positive_, &negative_}) {
    if (range->counts.empty()) continue;
    const int32_t new_offset = range->offset >> change;
    const int32_t last = (range->offset + static_cast<int32_t>(range->counts.size()) - 1) >> change;
    std::vector<uint64_t> merged(static_cast<size_t>(last - new_offset + 1), 0);
    for (size_t i = 0; i < range->counts.size(); ++i) {
      int32_t index = (range->offset + static_cast<int32_t>(i)) >> change;
      merged[static_cast<size_t>(index - new_offset)] += range->counts[i];
    }
    range->offset = new_offset;
    range->counts = std::move(merged);
  }
  scale_ -= change;
}

void ExponentialHistogramBuckets::Add(Range& range, double magnitude) {
  int32_t index = ExponentialBucketIndex(magnitude, scale_);
  if (range.counts.empty()) {
    range.offset = index;
    range.counts.assign(1, 1);
    return;
  }
  int64_t low = std::min<int64_t>(range.offset, index);
  int64_t high =
      std::max<int64_t>(range.offset + static_cast<int64_t>(range.counts.size()) - 1, index);
  if (int change = ChangeNeeded(low, high); change > 0) {
    Downscale(change);
    index = ExponentialBucketIndex(magnitude, scale_);
  }
  if (index < range.offset) {
    range.counts.insert(range.counts.begin(), static_cast<size_t>(range.offset - index), 0);
    range.offset = index;
  } else if (index >= range.offset + static_cast<int32_t>(range.counts.size())) {
    range.counts.resize(static_cast<size_t>(index - range.offset + 1), 0);
  }
  ++range.counts[static_cast<size_t>(index - range.offset)];
}

void ExponentialHistogramBuckets::Record(double value) {
  if (std::isnan(value) || std::isinf(value)) return;  // no bucket holds them
  if (value == 0) {
    ++zero_count_;
  } else if (value > 0) {
    Add(positive_, value);
  } else {
    Add(negative_, -value);
  }
}

void ExponentialHistogramBuckets::Snapshot(ExponentialHistogramPointData* out) const {
  out->scale = scale_;
  out->zero_count = zero_count_;
  out->positive.offset = positive_.offset;
  out->positive.counts = positive_.counts;
  out->negative.offset = negative_.offset;
  out->negative.counts = negative_.counts;
}

}  // namespace lantern::telemetry
