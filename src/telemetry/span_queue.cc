#include "telemetry/span_queue.h"

namespace lantern::telemetry {

SpanQueue::SpanQueue(size_t capacity)
    : capacity_(capacity < 2 ? 2 : capacity),
      mask_((capacity_ & (capacity_ - 1)) == 0 ? capacity_ - 1 : 0),
      cells_(new Cell[capacity_]) {
  for (size_t i = 0; i < capacity_; ++i) {
    cells_[i].sequence.store(i, std::memory_order_relaxed);
    cells_[i].span = nullptr;
  }
}

SpanQueue::~SpanQueue() {
  while (TryPop() != nullptr) {
  }
}

bool SpanQueue::TryPush(std::unique_ptr<SpanData>& span, uint64_t* pushed_position) {
  uint64_t position = enqueue_position_.load(std::memory_order_relaxed);
  Cell* cell;
  while (true) {
    cell = &cells_[Index(position)];
    uint64_t sequence = cell->sequence.load(std::memory_order_acquire);
    auto diff = static_cast<int64_t>(sequence - position);
    if (diff == 0) {
      if (enqueue_position_.compare_exchange_weak(position, position + 1,
                                                  std::memory_order_relaxed)) {
        break;
      }
    } else if (diff < 0) {
      return false;  // the slot still holds the span pushed one lap ago: full
    } else {
      position = enqueue_position_.load(std::memory_order_relaxed);
    }
  }
  cell->span = span.release();
  cell->sequence.store(position + 1, std::memory_order_release);
  if (pushed_position != nullptr) *pushed_position = position;
  return true;
}

std::unique_ptr<SpanData> SpanQueue::TryPop() {
  uint64_t position = dequeue_position_.load(std::memory_order_relaxed);
  Cell* cell;
  while (true) {
    cell = &cells_[Index(position)];
    uint64_t sequence = cell->sequence.load(std::memory_order_acquire);
    auto diff = static_cast<int64_t>(sequence - (position + 1));
    if (diff == 0) {
      if (dequeue_position_.compare_exchange_weak(position, position + 1,
                                                  std::memory_order_relaxed)) {
        break;
      }
    } else if (diff < 0) {
      return nullptr;  // empty
    } else {
      position = dequeue_position_.load(std::memory_order_relaxed);
    }
  }
  std::unique_ptr<SpanData> span(cell->span);
  cell->span = nullptr;
  cell->sequence.store(position + capacity_, std::memory_order_release);
  return span;
}

size_t SpanQueue::SizeApprox() const {
  uint64_t tail = dequeue_position_.load(std::memory_order_relaxed);
  uint64_t head = enqueue_position_.load(std::memory_order_relaxed);
  return head > tail ? static_cast<size_t>(head - tail) : 0;
}

}  // namespace lantern::telemetry
