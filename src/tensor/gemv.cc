#include "tensor/gemv.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#ifdef __AVX512F__
#include "tensor/simd.h"
#endif

namespace lantern::tensor {
namespace {

#ifndef LANTERN_GEMV_ROWS
#define LANTERN_GEMV_ROWS 16
#endif
#ifndef LANTERN_GEMV_AHEAD
#define LANTERN_GEMV_AHEAD 256
#endif
// Weight rows per block: enough that the partial sums' round trip through L1 is a small
// share of the loads, few enough that the block's streams stay within what the L2
// streamer tracks.
constexpr int64_t kRows = LANTERN_GEMV_ROWS;
// Software prefetch distance along a weight row, in floats.
constexpr int64_t kAhead = LANTERN_GEMV_AHEAD;

#ifdef __AVX512F__

// Columns [n0, n1) of C[0..M) for the weight rows [k0, k1): 64 columns per tile in
// registers (4M accumulators), then a masked 16-column tail.
template <int M>
void Block(int64_t n0, int64_t n1, int64_t k0, int64_t k1, const float* a, int64_t lda,
           const float* b, int64_t ldb, float* c, int64_t ldc, bool load_c) {
  int64_t j = n0;
  for (; j + 64 <= n1; j += 64) {
    __m512 acc[M][4];
    for (int r = 0; r < M; ++r) {
      for (int v = 0; v < 4; ++v) {
        acc[r][v] = load_c ? _mm512_loadu_ps(c + r * ldc + j + 16 * v) : _mm512_setzero_ps();
      }
    }
    for (int64_t p = k0; p < k1; ++p) {
      const float* w = b + p * ldb + j;
      for (int v = 0; v < 4; ++v)
        _mm_prefetch(reinterpret_cast<const char*>(w + kAhead + 16 * v), _MM_HINT_T0);
      __m512 wv[4];
      for (int v = 0; v < 4; ++v) {
        wv[v] = _mm512_loadu_ps(w + 16 * v);
        // Keeps the weights in registers: GCC otherwise folds the load into each row's FMA,
        // and M loads per vector exhaust the load ports (one 512-bit load a cycle on Zen 4).
        if constexpr (M > 1) asm("" : "+v"(wv[v]));
      }
      for (int r = 0; r < M; ++r) {
        const __m512 x = _mm512_set1_ps(a[r * lda + p]);
        for (int v = 0; v < 4; ++v) acc[r][v] = _mm512_fmadd_ps(x, wv[v], acc[r][v]);
      }
    }
    for (int r = 0; r < M; ++r) {
      for (int v = 0; v < 4; ++v) _mm512_storeu_ps(c + r * ldc + j + 16 * v, acc[r][v]);
    }
  }
  for (; j < n1; j += 16) {
    const __mmask16 mask = simd::FirstLanes(static_cast<int>(std::min<int64_t>(16, n1 - j)));
    __m512 acc[M];
    for (int r = 0; r < M; ++r) {
      acc[r] = load_c ? _mm512_maskz_loadu_ps(mask, c + r * ldc + j) : _mm512_setzero_ps();
    }
    for (int64_t p = k0; p < k1; ++p) {
      const __m512 w = _mm512_maskz_loadu_ps(mask, b + p * ldb + j);
      for (int r = 0; r < M; ++r)
        acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[r * lda + p]), w, acc[r]);
    }
    for (int r = 0; r < M; ++r) _mm512_mask_storeu_ps(c + r * ldc + j, mask, acc[r]);
  }
}

#else  // Portable: the same blocking; the compiler vectorizes the inner column loop.

template <int M>
void Block(int64_t n0, int64_t n1, int64_t k0, int64_t k1, const float* a, int64_t lda,
           const float* b, int64_t ldb, float* c, int64_t ldc, bool load_c) {
  if (!load_c) {
    for (int r = 0; r < M; ++r) std::fill(c + r * ldc + n0, c + r * ldc + n1, 0.0f);
  }
  for (int64_t p = k0; p < k1; ++p) {
    const float* w = b + p * ldb;
    for (int r = 0; r < M; ++r) {
      const float x = a[r * lda + p];
      float* y = c + r * ldc;
      for (int64_t j = n0; j < n1; ++j) y[j] += x * w[j];
    }
  }
}

#endif

template <int M>
void Rows(int64_t n0, int64_t n1, int64_t k, const float* a, int64_t lda, const float* b,
          int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  for (int64_t k0 = 0; k0 < k; k0 += kRows) {
    Block<M>(n0, n1, k0, std::min(k, k0 + kRows), a, lda, b, ldb, c, ldc, accumulate || k0 > 0);
  }
}

// One thread's columns [n0, n1), all rows of A, four at a time.
void Columns(int64_t m, int64_t n0, int64_t n1, int64_t k, const float* a, int64_t lda,
             const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  if (k == 0) {
    if (!accumulate) {
      for (int64_t r = 0; r < m; ++r) std::fill(c + r * ldc + n0, c + r * ldc + n1, 0.0f);
    }
    return;
  }
  for (int64_t r = 0; r < m; r += 4) {
    const float* ar = a + r * lda;
    float* cr = c + r * ldc;
    switch (std::min<int64_t>(4, m - r)) {
      case 1:
        Rows<1>(n0, n1, k, ar, lda, b, ldb, cr, ldc, accumulate);
        break;
      case 2:
        Rows<2>(n0, n1, k, ar, lda, b, ldb, cr, ldc, accumulate);
        break;
      case 3:
        Rows<3>(n0, n1, k, ar, lda, b, ldb, cr, ldc, accumulate);
        break;
      default:
        Rows<4>(n0, n1, k, ar, lda, b, ldb, cr, ldc, accumulate);
        break;
    }
  }
}

}  // namespace

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
  const int threads = pool.num_threads();
  // Slices of whole 64-column tiles, so only the last thread runs a masked tail.
  constexpr int64_t kAlign = 64;
  const int64_t slice = std::max<int64_t>(kAlign, (n / threads + kAlign - 1) / kAlign * kAlign);
  if (threads == 1 || n <= slice) {
    Columns(m, 0, n, k, a, lda, b, ldb, c, ldc, accumulate);
    return;
  }
  pool.RunOnAllThreads([&](int t) {
    const int64_t begin = std::min(n, t * slice);
    const int64_t end = t == threads - 1 ? n : std::min(n, begin + slice);
    if (begin < end) Columns(m, begin, end, k, a, lda, b, ldb, c, ldc, accumulate);
  });
}

}  // namespace lantern::tensor
