// This machine's limits, for choosing the GEMM library and for honest percentages:
// SGEMM GFLOP/s of oneDNN (on our pool, and with its own OpenMP threads) and of
// OpenBLAS on the shapes of an OPT-125m forward pass, and streaming read bandwidth.
//
//   machine_limits [threads]
// OpenBLAS only uses its AVX-512 kernels on this CPU when OPENBLAS_CORETYPE=SKYLAKEX is
// in the environment at load time; run it both ways to compare.
#include <dnnl.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "tensor/cpu_isa.h"
#include "tensor/machine_limits.h"

#ifdef LANTERN_HAVE_OPENBLAS
#include <cblas.h>
extern "C" char* openblas_get_corename(void);
#endif

namespace {

double BestGflops(int64_t m, int64_t n, int64_t k, const std::function<void()>& run) {
  run();
  double best = 0;
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < 1.0) {
    const auto t0 = std::chrono::steady_clock::now();
    run();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, 2.0 * m * n * k / s / 1e9);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 0;
  lantern::ThreadPool pool(threads, "limits");
  const auto isa = lantern::tensor::ActiveCpuIsa();
  if (!isa.ok()) {
    std::fprintf(stderr, "machine_limits: %s\n", isa.status().message().c_str());
    return 2;
  }
  std::printf("threads: %d, kernel level %s (oneDNN held to it below avx512)\n", pool.num_threads(),
              std::string(lantern::tensor::CpuIsaName(*isa)).c_str());
#ifdef LANTERN_HAVE_OPENBLAS
  openblas_set_num_threads(pool.num_threads());
  std::printf("OpenBLAS core: %s (OPENBLAS_CORETYPE=%s)\n", openblas_get_corename(),
              std::getenv("OPENBLAS_CORETYPE") ? std::getenv("OPENBLAS_CORETYPE") : "unset");
#endif
  struct Shape {
    int64_t m, n, k;
  };
  std::printf("%-18s %14s %14s %14s\n", "M x N x K", "oneDNN/pool", "oneDNN/omp", "OpenBLAS");
  for (Shape s : {Shape{1024, 1024, 1024}, Shape{512, 3072, 768}, Shape{512, 768, 3072},
                  Shape{512, 2304, 768}, Shape{32, 3072, 768}, Shape{8, 3072, 768},
                  Shape{1, 3072, 768}, Shape{1, 50272, 768}}) {
    std::vector<float> a(s.m * s.k, 0.01f), b(s.k * s.n, 0.02f), c(s.m * s.n);
    const double pool_gflops = lantern::tensor::MeasureGemmGflops(pool, s.m, s.n, s.k);
    const int omp_threads = pool.num_threads();
    const double omp_gflops = BestGflops(s.m, s.n, s.k, [&] {
      omp_set_num_threads(omp_threads);
      dnnl_sgemm('N', 'N', s.m, s.n, s.k, 1.0f, a.data(), s.k, b.data(), s.n, 0.0f, c.data(), s.n);
      omp_set_num_threads(1);  // the pool's calling thread runs oneDNN single-threaded
    });
    double blas_gflops = 0;
#ifdef LANTERN_HAVE_OPENBLAS
    blas_gflops = BestGflops(s.m, s.n, s.k, [&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s.m, s.n, s.k, 1.0f, a.data(), s.k,
                  b.data(), s.n, 0.0f, c.data(), s.n);
    });
#endif
    char name[32];
    std::snprintf(name, sizeof(name), "%ldx%ldx%ld", static_cast<long>(s.m), static_cast<long>(s.n),
                  static_cast<long>(s.k));
    std::printf("%-18s %9.1f GF/s %9.1f GF/s %9.1f GF/s\n", name, pool_gflops, omp_gflops,
                blas_gflops);
  }
  std::printf("read bandwidth: %.1f GB/s\n", lantern::tensor::MeasureReadBandwidthGBps(pool));
  return 0;
}
