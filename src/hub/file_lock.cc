#include "hub/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace lantern::hub {

Result<FileLock> FileLock::Acquire(const std::filesystem::path& path,
                                   void (*on_wait)(const std::filesystem::path&)) {
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Internal("cannot open lock file " + path.string() + ": " + std::strerror(errno));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (on_wait) on_wait(path);
    while (flock(fd, LOCK_EX) != 0) {
      if (errno != EINTR) {
        int error = errno;
        close(fd);
        return Internal("cannot lock " + path.string() + ": " + std::strerror(error));
      }
    }
  }
  return FileLock(fd);
}

FileLock::~FileLock() {
  if (fd_ >= 0) close(fd_);  // closing releases the lock
}

}  // namespace lantern::hub
