// A bounded multi-producer queue of owned SpanData, lock-free (Dmitry Vyukov's bounded
// MPMC ring): a push is a few atomic operations, never blocks and never allocates; a full
// queue refuses the push. Capacity is exact for any number >= 2 (the ring's sequence
// scheme needs two slots; 0 and 1 are raised to 2).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "telemetry/span_data.h"

namespace lantern::telemetry {

class SpanQueue {
 public:
  explicit SpanQueue(size_t capacity);
  ~SpanQueue();  // frees what is still queued
  SpanQueue(const SpanQueue&) = delete;
  SpanQueue& operator=(const SpanQueue&) = delete;

  // False when full; `span` is then left untouched. On success `*position` (if given)
  // receives the span's sequence number: 0 for the first span ever pushed, then 1, 2, ...
  bool TryPush(std::unique_ptr<SpanData>& span, uint64_t* position = nullptr);
  // Null when empty.
  std::unique_ptr<SpanData> TryPop();
  // Approximate number queued (exact when no push or pop is in flight).
  size_t SizeApprox() const;
  size_t capacity() const { return capacity_; }

 private:
  struct Cell {
    std::atomic<uint64_t> sequence;
    SpanData* span;
  };
  size_t Index(uint64_t position) const {
    return mask_ != 0 ? static_cast<size_t>(position & mask_)
                      : static_cast<size_t>(position % capacity_);
  }

  const size_t capacity_;
  const uint64_t mask_;  // capacity - 1 when a power of two (fast path), else 0
  std::unique_ptr<Cell[]> cells_;
  alignas(64) std::atomic<uint64_t> enqueue_position_{0};
  alignas(64) std::atomic<uint64_t> dequeue_position_{0};
};

}  // namespace lantern::telemetry
