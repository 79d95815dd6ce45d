// Skinny products (m = 1..8 rows) on the weight shapes of one OPT-125m layer and its LM
// head: the skinny kernel (tensor::SkinnyGemm) against oneDNN (tensor::Gemm run with
// LANTERN_GEMV=0, which this program sets), alternated in one run, as GB/s of weights read.
// Usage: gemv_bench [threads] [rounds]
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "base/thread_pool.h"
#include "tensor/cpu_isa.h"
#include "tensor/gemm.h"
#include "tensor/gemv.h"
#include "tensor/machine_limits.h"

namespace lt = lantern::tensor;

int main(int argc, char** argv) {
  setenv("LANTERN_GEMV", "0", 1);  // Gemm() is then oneDNN only
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
  lantern::ThreadPool pool(threads, "gemv");
  struct Shape {
    int64_t k, n;
  };
  // Four layers' worth of matrices (about 113 MB, beyond the caches) plus the LM head.
  std::vector<Shape> shapes;
  for (int l = 0; l < 4; ++l) {
    for (Shape s : {Shape{768, 2304}, Shape{768, 768}, Shape{768, 3072}, Shape{3072, 768}}) {
      shapes.push_back(s);
    }
  }
  shapes.push_back({768, 50272});
  std::vector<std::vector<float>> weights;
  double bytes = 0;
  for (Shape s : shapes) {
    weights.emplace_back(s.k * s.n, 0.01f);
    bytes += 4.0 * s.k * s.n;
  }
  std::vector<float> x(8 * 3072, 0.5f), y(8 * 50272);
  const auto isa = lt::ActiveCpuIsa();
  if (!isa.ok()) {
    std::fprintf(stderr, "gemv_bench: %s\n", isa.status().message().c_str());
    return 2;
  }
  std::printf(
      "threads %d, %.0f MB of weights per pass, kernels %s (oneDNN held to the same "
      "level below avx512), load average %s\n",
      threads, bytes / 1e6, std::string(lt::CpuIsaName(*isa)).c_str(), "see /proc/loadavg");
  for (int m : {1, 2, 3, 4, 6, 8}) {
    double best[2] = {0, 0};
    for (int round = 0; round < rounds; ++round) {
      for (int path = 0; path < 2; ++path) {
        const double t0 = lt::BenchSeconds(lt::TimeBase::kCpu, threads);
        for (size_t i = 0; i < shapes.size(); ++i) {
          const Shape s = shapes[i];
          if (path == 0) {
            lt::SkinnyGemm(pool, m, s.n, s.k, x.data(), s.k, weights[i].data(), s.n, y.data(), s.n,
                           false);
          } else {
            lt::Gemm(pool, m, s.n, s.k, x.data(), s.k, weights[i].data(), s.n, y.data(), s.n,
                     false);
          }
        }
        const double gbs = bytes / (lt::BenchSeconds(lt::TimeBase::kCpu, threads) - t0) / 1e9;
        if (gbs > best[path]) best[path] = gbs;
      }
    }
    std::printf("m=%d  skinny %6.1f GB/s  oneDNN %6.1f GB/s  ratio %.2f  (CPU time per thread)\n",
                m, best[0], best[1], best[0] / best[1]);
  }
  return 0;
}
