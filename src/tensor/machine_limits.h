// Measures this machine's own limits, so benchmarks can report honest fractions of
// them: the SGEMM peak of the GEMM path the models use, and streaming read bandwidth.
#pragma once

#include <cstdint>

#include "base/thread_pool.h"

namespace lantern::tensor {

// GFLOP/s of Gemm() (on `pool`) for an m x n x k product, best of several runs of
// about `seconds` in total.
double MeasureGemmGflops(ThreadPool& pool, int64_t m, int64_t n, int64_t k, double seconds = 1.0);

// GB/s of reading a buffer much larger than the caches with all pool threads (AVX-512
// loads summed so nothing is optimized away), best of several passes.
double MeasureReadBandwidthGBps(ThreadPool& pool, int64_t bytes = int64_t{512} << 20,
                                int passes = 6);

}  // namespace lantern::tensor
