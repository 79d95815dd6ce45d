// The AVX-512 variant of the skinny GEMM's block (see gemv.h): 64 columns per tile in
// registers (4M accumulators), then a masked 16-column tail.
#include <immintrin.h>

#include <algorithm>

#include "tensor/dispatch.h"
#include "tensor/simd_gemv.h"
#include "tensor/x86/avx512/simd.h"

namespace lantern::tensor::avx512 {
namespace {

struct Tiles {
  template <int M>
  static void Block(int64_t n0, int64_t n1, int64_t k0, int64_t k1, int64_t k, const float* a,
                    int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, bool load_c) {
    int64_t j = n0;
    for (; j + 64 <= n1; j += 64) {
      __m512 acc[M][4];
      for (int r = 0; r < M; ++r) {
        for (int v = 0; v < 4; ++v) {
          acc[r][v] = load_c ? _mm512_loadu_ps(c + r * ldc + j + 16 * v) : _mm512_setzero_ps();
        }
      }
      simd_kernels::GemvTileRows<4>(n0, n1, j, k0, k1, k, b, ldb, [&](int64_t p, const float* w) {
        __m512 wv[4];
        for (int v = 0; v < 4; ++v) {
          wv[v] = _mm512_loadu_ps(w + 16 * v);
          // Keeps the weights in registers: GCC otherwise folds the load into each row's
          // FMA, and M loads per vector exhaust the load ports (one 512-bit load a cycle
          // on Zen 4).
          if constexpr (M > 1) asm("" : "+v"(wv[v]));
        }
        for (int r = 0; r < M; ++r) {
          const __m512 x = _mm512_set1_ps(a[r * lda + p]);
          for (int v = 0; v < 4; ++v) acc[r][v] = _mm512_fmadd_ps(x, wv[v], acc[r][v]);
        }
      });
      for (int r = 0; r < M; ++r) {
        for (int v = 0; v < 4; ++v) _mm512_storeu_ps(c + r * ldc + j + 16 * v, acc[r][v]);
      }
    }
    for (; j < n1; j += 16) {
      const __mmask16 mask = FirstLanes(static_cast<int>(std::min<int64_t>(16, n1 - j)));
      __m512 acc[M];
      for (int r = 0; r < M; ++r) {
        acc[r] = load_c ? _mm512_maskz_loadu_ps(mask, c + r * ldc + j) : _mm512_setzero_ps();
      }
      simd_kernels::GemvTileRows<1>(n0, n1, j, k0, k1, k, b, ldb, [&](int64_t p, const float* w) {
        const __m512 wv = _mm512_maskz_loadu_ps(mask, w);
        for (int r = 0; r < M; ++r)
          acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[r * lda + p]), wv, acc[r]);
      });
      for (int r = 0; r < M; ++r) _mm512_mask_storeu_ps(c + r * ldc + j, mask, acc[r]);
    }
  }
};

}  // namespace

void InstallGemv(GemvKernels& table) { table.columns = simd_kernels::GemvColumns<Tiles>; }

}  // namespace lantern::tensor::avx512
