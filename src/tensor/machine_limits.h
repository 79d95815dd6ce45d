// Measures this machine's own limits, so benchmarks can report honest fractions of
// them: the SGEMM peak of the GEMM path the models use, and streaming read bandwidth.
#pragma once

#include <cstdint>

#include "base/thread_pool.h"

namespace lantern::tensor {

// How a benchmark's seconds are counted. kWall: elapsed time. kCpu: the process's CPU
// time divided by the pool's thread count, i.e. the elapsed time the run would take if
// its threads had the cores to themselves (for machines shared with other work).
enum class TimeBase { kWall, kCpu };

// Seconds on `base`'s clock since an arbitrary origin; differences are durations.
double BenchSeconds(TimeBase base, int threads);

// GFLOP/s of Gemm() (on `pool`) for an m x n x k product, best of several runs of
// about `seconds` in total.
double MeasureGemmGflops(ThreadPool& pool, int64_t m, int64_t n, int64_t k, double seconds = 1.0,
                         TimeBase base = TimeBase::kWall);

// GB/s of reading a buffer much larger than the caches with all pool threads (the loads
// summed so nothing is optimized away), best of several passes.
double MeasureReadBandwidthGBps(ThreadPool& pool, int64_t bytes = int64_t{512} << 20,
                                int passes = 6, TimeBase base = TimeBase::kWall);

}  // namespace lantern::tensor
