#include "base/clock.h"

namespace lantern {
namespace {

int64_t WallOffsetNanos() {
  // Taken once; steady + offset = wall time at the moment of the first call.
  static const int64_t offset = [] {
    auto wall = std::chrono::system_clock::now().time_since_epoch();
    auto steady = SteadyClock::now().time_since_epoch();
    return std::chrono::duration_cast<std::chrono::nanoseconds>(wall).count() -
           std::chrono::duration_cast<std::chrono::nanoseconds>(steady).count();
  }();
  return offset;
}

}  // namespace

int64_t ToUnixNanos(SteadyTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count() +
         WallOffsetNanos();
}

}  // namespace lantern
