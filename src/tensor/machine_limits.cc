#include "tensor/machine_limits.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <vector>

#include "tensor/gemm.h"

namespace lantern::tensor {
namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

double BenchSeconds(TimeBase base, int threads) {
  if (base == TimeBase::kWall) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9) / std::max(threads, 1);
}

double MeasureGemmGflops(ThreadPool& pool, int64_t m, int64_t n, int64_t k, double seconds,
                         TimeBase base) {
  const int threads = pool.num_threads();
  std::vector<float> a(m * k), b(k * n), c(m * n);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(i % 7) * 0.01f;
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(i % 5) * 0.01f;
  Gemm(pool, m, n, k, a.data(), k, b.data(), n, c.data(), n);  // warm up (JIT, pages)
  const double flops = 2.0 * m * n * k;
  double best = 0;
  const auto start = std::chrono::steady_clock::now();
  do {
    const double t0 = BenchSeconds(base, threads);
    Gemm(pool, m, n, k, a.data(), k, b.data(), n, c.data(), n);
    best = std::max(best, flops / (BenchSeconds(base, threads) - t0) / 1e9);
  } while (Seconds(start) < seconds);
  return best;
}

double MeasureReadBandwidthGBps(ThreadPool& pool, int64_t bytes, int passes, TimeBase base) {
  const int threads = pool.num_threads();
  const int64_t n = bytes / sizeof(float) / 16 * 16;
  std::vector<float> buffer(n);
  pool.ParallelFor(n, 1 << 20, [&](int64_t begin, int64_t end) {
    std::fill(buffer.begin() + begin, buffer.begin() + end, 1.0f);
  });
  std::atomic<double> sink{0};
  double best = 0;
  for (int pass = 0; pass < passes; ++pass) {
    const double t0 = BenchSeconds(base, threads);
    pool.ParallelFor(n / 16, 0, [&](int64_t begin, int64_t end) {
      // Sixteen independent sums, which the compiler keeps in vector registers of the
      // baseline ISA: enough loads in flight to saturate memory on any level.
      float lanes[16] = {};
      const float* p = buffer.data();
      for (int64_t i = begin; i < end; ++i) {
        for (int l = 0; l < 16; ++l) lanes[l] += p[i * 16 + l];
      }
      float total = 0.0f;
      for (float lane : lanes) total += lane;
      double expected = sink.load();
      while (!sink.compare_exchange_weak(expected, expected + total)) {
      }
    });
    best = std::max(
        best, static_cast<double>(n) * sizeof(float) / (BenchSeconds(base, threads) - t0) / 1e9);
  }
  return best;
}

}  // namespace lantern::tensor
