#include "telemetry/otlp_buffer_pool.h"

namespace lantern::telemetry {

std::shared_ptr<std::string> OtlpBufferPool::Take() {
  std::unique_ptr<std::string> buffer;
  {
    std::lock_guard lock(mutex_);
    if (!free_.empty()) {
      buffer = std::move(free_.back());
      free_.pop_back();
    }
  }
  if (!buffer) buffer = std::make_unique<std::string>();
  buffer->clear();
  return std::shared_ptr<std::string>(
      buffer.release(), [pool = shared_from_this()](std::string* b) { pool->Give(b); });
}

void OtlpBufferPool::Give(std::string* buffer) {
  std::unique_ptr<std::string> owned(buffer);
  if (owned->capacity() > kMaxKeptCapacity) return;
  std::lock_guard lock(mutex_);
  if (free_.size() < kMaxKept) free_.push_back(std::move(owned));
}

}  // namespace lantern::telemetry
