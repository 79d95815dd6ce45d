#include "engine/engine_config.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <utility>

namespace lantern::engine {

namespace {

// The first number in a file ("max" or an unreadable file: none).
std::optional<int64_t> ReadBytes(const char* path) {
  std::ifstream file(path);
  std::string text;
  if (!(file >> text) || text.empty() || text[0] < '0' || text[0] > '9') return std::nullopt;
  char* end = nullptr;
  long long value = std::strtoll(text.c_str(), &end, 10);
  if (end == text.c_str() || value < 0) return std::nullopt;
  return value;
}

int64_t MemAvailable() {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    if (line.rfind("MemAvailable:", 0) == 0) {
      return std::strtoll(line.c_str() + 13, nullptr, 10) * 1024;  // "...: 123 kB"
    }
  }
  return 0;
}

// What the process's memory cgroup (a container's limit) still allows, v2 then v1.
std::optional<int64_t> CgroupHeadroom() {
  const std::pair<const char*, const char*> files[] = {
      {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"},
      {"/sys/fs/cgroup/memory/memory.limit_in_bytes",
       "/sys/fs/cgroup/memory/memory.usage_in_bytes"},
  };
  for (const auto& [limit_file, usage_file] : files) {
    std::optional<int64_t> limit = ReadBytes(limit_file);
    std::optional<int64_t> usage = ReadBytes(usage_file);
    // cgroup v1 writes "no limit" as a huge number rather than "max".
    if (limit && usage && *limit < (int64_t{1} << 60)) return std::max<int64_t>(*limit - *usage, 0);
  }
  return std::nullopt;
}

}  // namespace

int64_t KvCacheMemoryFor(int64_t mem_available, std::optional<int64_t> cgroup_headroom) {
  constexpr int64_t kMiB = int64_t{1} << 20;
  int64_t available = mem_available;
  if (cgroup_headroom)
    available = available > 0 ? std::min(available, *cgroup_headroom) : *cgroup_headroom;
  if (available <= 0 && !cgroup_headroom) return 1024 * kMiB;
  return std::clamp<int64_t>(available * 3 / 10, 64 * kMiB, 4096 * kMiB);
}

int64_t DefaultKvCacheMemory() { return KvCacheMemoryFor(MemAvailable(), CgroupHeadroom()); }

}  // namespace lantern::engine
