#include "server/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace lantern::server {
namespace {

// The fields of /proc/self/stat after the command name (which may hold spaces), so that
// field N of proc(5) is fields[N - 3].
std::vector<std::string> StatFields() {
  std::ifstream file("/proc/self/stat");
  std::string line;
  std::getline(file, line);
  std::vector<std::string> fields;
  size_t close = line.rfind(')');
  if (close == std::string::npos) return fields;
  std::istringstream rest(line.substr(close + 1));
  for (std::string field; rest >> field;) fields.push_back(field);
  return fields;
}

double StatField(int number) {
  std::vector<std::string> fields = StatFields();
  size_t i = static_cast<size_t>(number - 3);
  return i < fields.size() ? std::stod(fields[i]) : 0;
}

double BootTime() {
  std::ifstream file("/proc/stat");
  for (std::string key; file >> key;) {
    if (key == "btime") {
      double seconds = 0;
      file >> seconds;
      return seconds;
    }
    file.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

double OpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  double count = 0;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1;  // the directory stream's own descriptor
}

}  // namespace

void AddProcessMetrics(MetricsRegistry* registry) {
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  // Taken once: the start time cannot change, and /proc/stat is long.
  const double start_time = BootTime() + StatField(22) / ticks;
  auto& r = *registry;
  r.AddCallbackGauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", {},
                     [] { return StatField(23); });
  r.AddCallbackGauge("process_resident_memory_bytes", "Resident memory size in bytes.", {},
                     [page] { return StatField(24) * page; });
  r.AddCallbackGauge("process_start_time_seconds",
                     "Start time of the process since unix epoch in seconds.", {},
                     [start_time] { return start_time; });
  r.AddCallbackCounter("process_cpu_seconds_total",
                       "Total user and system CPU time spent in seconds.", {}, [ticks] {
                         std::vector<std::string> f = StatFields();
                         if (f.size() < 13) return 0.0;
                         return (std::stod(f[11]) + std::stod(f[12])) / ticks;  // utime, stime
                       });
  r.AddCallbackGauge("process_open_fds", "Number of open file descriptors.", {}, OpenFds);
  r.AddCallbackGauge("process_max_fds", "Maximum number of open file descriptors.", {}, [] {
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    return static_cast<double>(limit.rlim_cur);
  });
}

}  // namespace lantern::server
