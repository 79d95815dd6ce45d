#include "cli/load_progress.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>

namespace lantern::cli {
namespace {

// Below this a checkpoint loads in a blink: piped logs get no progress lines for it.
constexpr uint64_t kQuietBelowBytes = uint64_t{256} << 20;

struct Printer {
  bool terminal = isatty(STDERR_FILENO) == 1;
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_draw{};
  int last_quarter = 0;

  void operator()(uint64_t done, uint64_t total) {
    if (total == 0) return;
    const double fraction = static_cast<double>(done) / static_cast<double>(total);
    const auto now = std::chrono::steady_clock::now();
    const double seconds = std::chrono::duration<double>(now - start).count();
    if (terminal) {
      if (done < total && now - last_draw < std::chrono::milliseconds(100)) return;
      last_draw = now;
      std::fprintf(stderr, "\rloading weights: %3.0f%% (%llu / %llu MB, %.1f s)", fraction * 100,
                   static_cast<unsigned long long>(done >> 20),
                   static_cast<unsigned long long>(total >> 20), seconds);
      if (done >= total) std::fputc('\n', stderr);
      std::fflush(stderr);
      return;
    }
    const int quarter = static_cast<int>(fraction * 4);
    if (total < kQuietBelowBytes || quarter <= last_quarter) return;
    last_quarter = quarter;
    std::fprintf(stderr, "loading weights: %d%% (%llu / %llu MB, %.1f s)\n", quarter * 25,
                 static_cast<unsigned long long>(done >> 20),
                 static_cast<unsigned long long>(total >> 20), seconds);
  }
};

}  // namespace

std::function<void(uint64_t, uint64_t)> MakeLoadProgressPrinter() {
  auto printer = std::make_shared<Printer>();
  return [printer](uint64_t done, uint64_t total) { (*printer)(done, total); };
}

}  // namespace lantern::cli
