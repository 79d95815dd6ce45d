#include "tensor/gemv.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "tensor/dispatch.h"

namespace lantern::tensor {

bool SkinnyGemmEnabled() {
  static const bool enabled = [] {
    const char* env = std::getenv("LANTERN_GEMV");
    return env == nullptr || std::strcmp(env, "0") != 0;
  }();
  return enabled;
}

void SkinnyGemm(ThreadPool& pool, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  const auto columns = Kernels().gemv.columns;
  const int threads = pool.num_threads();
  // Slices of 32 columns (whole cache lines), so that the threads' shares of the narrow
  // decode shapes stay even (576 columns: 288 + 288, not 320 + 256): the thread that
  // finishes first would wait, and one thread alone does not saturate memory.
  constexpr int64_t kAlign = 32;
  const int64_t slice = std::max<int64_t>(kAlign, (n / threads + kAlign - 1) / kAlign * kAlign);
  if (threads == 1 || n <= slice) {
    columns(m, 0, n, k, a, lda, b, ldb, c, ldc, accumulate);
    return;
  }
  pool.RunOnAllThreads([&](int t) {
    const int64_t begin = std::min(n, t * slice);
    const int64_t end = t == threads - 1 ? n : std::min(n, begin + slice);
    if (begin < end) columns(m, begin, end, k, a, lda, b, ldb, c, ldc, accumulate);
  });
}

}  // namespace lantern::tensor
