#include "tensor/machine_limits.h"

#include <immintrin.h>

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
      __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
      const float* p = buffer.data();
      int64_t i = begin;
      for (; i + 4 <= end; i += 4) {
        s0 = _mm512_add_ps(s0, _mm512_loadu_ps(p + i * 16));
        s1 = _mm512_add_ps(s1, _mm512_loadu_ps(p + i * 16 + 16));
        s2 = _mm512_add_ps(s2, _mm512_loadu_ps(p + i * 16 + 32));
        s3 = _mm512_add_ps(s3, _mm512_loadu_ps(p + i * 16 + 48));
      }
      for (; i < end; ++i) s0 = _mm512_add_ps(s0, _mm512_loadu_ps(p + i * 16));
      const float total =
          _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
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
