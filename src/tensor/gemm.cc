#include "tensor/gemm.h"

#include <dnnl.h>
#include <omp.h>

#include <algorithm>

#include "tensor/gemv.h"

namespace lantern::tensor {
namespace {

// oneDNN sizes its OpenMP team with omp_get_max_threads() of the calling thread; one
// thread per caller keeps all parallelism in our pool.
void PinOneDnnToCallingThread() {
  thread_local bool pinned = [] {
    omp_set_num_threads(1);
    return true;
  }();
  (void)pinned;
}

}  // namespace

void GemmSingleThread(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                      int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  PinOneDnnToCallingThread();
  dnnl_sgemm('N', 'N', m, n, k, 1.0f, a, lda, b, ldb, accumulate ? 1.0f : 0.0f, c, ldc);
}

void Gemm(ThreadPool& pool, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
          const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  if (m <= kSkinnyGemmMaxRows && SkinnyGemmEnabled()) {
    SkinnyGemm(pool, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
    return;
  }
  const int threads = pool.num_threads();
  // Slices are multiples of 64 columns so each thread's loads stay cache-line aligned.
  constexpr int64_t kAlign = 64;
  const int64_t slice = std::max<int64_t>(kAlign, (n / threads + kAlign - 1) / kAlign * kAlign);
  if (threads == 1 || n <= slice) {
    GemmSingleThread(m, n, k, a, lda, b, ldb, c, ldc, accumulate);
    return;
  }
  pool.RunOnAllThreads([&](int t) {
    const int64_t begin = std::min(n, t * slice);
    const int64_t end = t == threads - 1 ? n : std::min(n, begin + slice);
    GemmSingleThread(m, end - begin, k, a, lda, b + begin, ldb, c + begin, ldc, accumulate);
  });
}

}  // namespace lantern::tensor
