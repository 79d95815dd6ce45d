// Reused request buffers. OTLP requests are hundreds of kilobytes; a fresh buffer per
// request comes from mmap and costs a page fault per 4 KiB touched, more than encoding.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace lantern::telemetry {

class OtlpBufferPool : public std::enable_shared_from_this<OtlpBufferPool> {
 public:
  static std::shared_ptr<OtlpBufferPool> Create() {
    return std::shared_ptr<OtlpBufferPool>(new OtlpBufferPool());
  }
  // An empty string, with the capacity of an earlier request when one is free. It goes
  // back to the pool when the last reference is dropped.
  std::shared_ptr<std::string> Take();

 private:
  OtlpBufferPool() = default;
  void Give(std::string* buffer);

  // A request and the one being encoded while it is retried, at the sizes batches of the
  // default 512 spans have; an occasional giant request is not kept around.
  static constexpr size_t kMaxKept = 2;
  static constexpr size_t kMaxKeptCapacity = 16u << 20;

  std::mutex mutex_;
  std::vector<std::unique_ptr<std::string>> free_;  // guarded by mutex_
};

}  // namespace lantern::telemetry
