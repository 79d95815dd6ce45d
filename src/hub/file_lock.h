// An exclusive advisory lock on a file (flock), held for the object's life: two processes
// (two servers starting at once on a cold cache) never write the same blob together.
#pragma once

#include <filesystem>

#include "base/status.h"

namespace lantern::hub {

class FileLock {
 public:
  // Creates the file (and its folder) if needed and waits for the lock. `on_wait` runs
  // once when another holder makes us wait, so the caller can say why nothing moves.
  static Result<FileLock> Acquire(const std::filesystem::path& path,
                                  void (*on_wait)(const std::filesystem::path&) = nullptr);
  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace lantern::hub
