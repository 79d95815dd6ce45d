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

  static constexpr size_t kMaxKept = 4;
  static constexpr size_t kMaxKeptCapacity = 80u << 20;  // past the 64 MiB request limit

  std::mutex mutex_;
  std::vector<std::unique_ptr<std::string>> free_;  // guarded by mutex_
};

}  // namespace lantern::telemetry
