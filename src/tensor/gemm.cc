#include "tensor/gemm.h"

#if defined(LANTERN_HAVE_ONEDNN)
#include <dnnl.h>
#include <omp.h>
#endif

#include <algorithm>

#include "tensor/dispatch.h"
#include "tensor/gemv.h"
#include "tensor/onednn_setup.h"

namespace lantern::tensor {
namespace {

#if defined(LANTERN_HAVE_ONEDNN)
// oneDNN sizes its OpenMP team with omp_get_max_threads() of the calling thread; one
// thread per caller keeps all parallelism in our pool.
void PinOneDnnToCallingThread() {
  thread_local bool pinned = [] {
    omp_set_num_threads(1);
    return true;
  }();
  (void)pinned;
}

// oneDNN picks its own kernels from the CPU; under a lower LANTERN_CPU_ISA it is held to the
// same level, so that a forced level measures and tests what a CPU of that level runs. Must
// precede oneDNN's first kernel, hence once before the first product.
void LimitOneDnnToKernelLevel() {
  static const bool limited = [] {
    switch (Kernels().isa) {
      case CpuIsa::kPortable:
        return dnnl_set_max_cpu_isa(dnnl_cpu_isa_sse41) == dnnl_success;
      case CpuIsa::kAvx2:
        return dnnl_set_max_cpu_isa(dnnl_cpu_isa_avx2) == dnnl_success;
      default:
        return true;
    }
  }();
  (void)limited;
}
#endif

}  // namespace

#if defined(LANTERN_HAVE_ONEDNN)
void PrepareOneDnnOnCallingThread() {
  LimitOneDnnToKernelLevel();
  PinOneDnnToCallingThread();
}
#endif

// Without oneDNN (cross builds: Debian has no libdnnl for the target architecture,
// src/tensor/CMakeLists.txt), every product takes the skinny kernel, four rows of A at a
// time: correct for any shape, slower than oneDNN from a few rows on.
void GemmSingleThread(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
                      int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
#if defined(LANTERN_HAVE_ONEDNN)
  PrepareOneDnnOnCallingThread();
  dnnl_sgemm('N', 'N', m, n, k, 1.0f, a, lda, b, ldb, accumulate ? 1.0f : 0.0f, c, ldc);
#else
  Kernels().gemv.columns(m, 0, n, k, a, lda, b, ldb, c, ldc, accumulate);
#endif
}

void Gemm(ThreadPool& pool, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
          const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
#if defined(LANTERN_HAVE_ONEDNN)
  const bool skinny = m <= kSkinnyGemmMaxRows && SkinnyGemmEnabled();
#else
  const bool skinny = true;
#endif
  if (skinny) {
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
