// One clock for the whole process: durations come from the steady clock; wall-clock
// timestamps (for spans) are steady readings shifted by one offset taken at start-up,
// so that spans and their children nest exactly.
#pragma once

#include <chrono>
#include <cstdint>

namespace lantern {

using SteadyClock = std::chrono::steady_clock;
using SteadyTime = SteadyClock::time_point;

inline SteadyTime Now() { return SteadyClock::now(); }

// Nanoseconds since the Unix epoch for a steady-clock reading.
int64_t ToUnixNanos(SteadyTime t);

inline double SecondsBetween(SteadyTime from, SteadyTime to) {
  return std::chrono::duration<double>(to - from).count();
}

}  // namespace lantern
