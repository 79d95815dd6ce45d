#include "engine/engine_config.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>

namespace lantern::engine {

int64_t DefaultKvCacheMemory() {
  constexpr int64_t kMiB = int64_t{1} << 20;
  int64_t available = 0;
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    if (line.rfind("MemAvailable:", 0) == 0) {
      available = std::strtoll(line.c_str() + 13, nullptr, 10) * 1024;  // "...: 123 kB"
      break;
    }
  }
  if (available <= 0) return 1024 * kMiB;
  return std::clamp<int64_t>(available * 3 / 10, 64 * kMiB, 4096 * kMiB);
}

}  // namespace lantern::engine
