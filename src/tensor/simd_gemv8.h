// The skinny GEMM over int8 weights (--quantization int8; see gemm8.h and dispatch.h's
// Gemv8Kernels), one body for every variant: a variant supplies its vector type S and a
// loader W that widens kLanes int8 values to one S::V (W::Load, W::LoadPartial for the first
// n lanes). Each block of kInt8BlockRows weight rows has one scale per column: the block's
// sums are kept unscaled in registers and scaled once as they join C, so the scales cost one
// FMA per column per block. Internal to the variant files, like simd_kernels.h.
#pragma once

#include <algorithm>
#include <cstdint>

#include "tensor/dispatch.h"
#include "tensor/gemm8.h"
#include "tensor/skinny_split.h"

namespace lantern::tensor::simd_kernels {
namespace {

// Columns [n0, n1) of one block of weight rows [k0, k1) whose scales are `scale` [ldb].
template <class S, class W, int M, int NV>
void Gemv8Block(int64_t n0, int64_t n1, int64_t k0, int64_t k1, const float* a, int64_t lda,
                const int8_t* b, int64_t ldb, const float* scale, float* c, int64_t ldc,
                bool load_c) {
  constexpr int L = S::kLanes;
  constexpr int64_t kAhead = 1024;  // software prefetch distance along a weight row, in values
  int64_t j = n0;
  for (; j + NV * L <= n1; j += NV * L) {
    typename S::V acc[M][NV];
    for (int r = 0; r < M; ++r) {
      for (int v = 0; v < NV; ++v) acc[r][v] = S::Zero();
    }
    for (int64_t p = k0; p < k1; ++p) {
      const int8_t* w = b + p * ldb + j;
      for (int v = 0; v < NV * L; v += 64) __builtin_prefetch(w + kAhead + v);
      typename S::V wv[NV];
      for (int v = 0; v < NV; ++v) wv[v] = W::Load(w + v * L);
      for (int r = 0; r < M; ++r) {
        const typename S::V x = S::Set1(a[r * lda + p]);
        for (int v = 0; v < NV; ++v) acc[r][v] = S::MulAdd(x, wv[v], acc[r][v]);
      }
    }
    for (int v = 0; v < NV; ++v) {
      const typename S::V s = S::Load(scale + j + v * L);
      for (int r = 0; r < M; ++r) {
        float* out = c + r * ldc + j + v * L;
        S::Store(out, S::MulAdd(acc[r][v], s, load_c ? S::Load(out) : S::Zero()));
      }
    }
  }
  for (; j < n1; j += L) {
    const int n = static_cast<int>(std::min<int64_t>(L, n1 - j));
    typename S::V acc[M];
    for (int r = 0; r < M; ++r) acc[r] = S::Zero();
    for (int64_t p = k0; p < k1; ++p) {
      const typename S::V w = W::LoadPartial(b + p * ldb + j, n);
      for (int r = 0; r < M; ++r) acc[r] = S::MulAdd(S::Set1(a[r * lda + p]), w, acc[r]);
    }
    const typename S::V s = S::LoadPartial(scale + j, n);
    for (int r = 0; r < M; ++r) {
      float* out = c + r * ldc + j;
      S::StorePartial(out, S::MulAdd(acc[r], s, load_c ? S::LoadPartial(out, n) : S::Zero()), n);
    }
  }
}

template <class S, class W, int M>
void Gemv8Rows(int64_t n0, int64_t n1, int64_t k, const float* a, int64_t lda, const int8_t* b,
               int64_t ldb, const float* scales, float* c, int64_t ldc, bool accumulate) {
  for (int64_t k0 = 0; k0 < k; k0 += kInt8BlockRows) {
    Gemv8Block<S, W, M, S::GemvVectors(M)>(n0, n1, k0, std::min(k, k0 + kInt8BlockRows), a, lda, b,
                                           ldb, scales + (k0 / kInt8BlockRows) * ldb, c, ldc,
                                           accumulate || k0 > 0);
  }
}

// One thread's columns [n0, n1), rows of A up to four at a time.
template <class S, class W>
void Gemv8Columns(int64_t m, int64_t n0, int64_t n1, int64_t k, const float* a, int64_t lda,
                  const int8_t* b, int64_t ldb, const float* scales, float* c, int64_t ldc,
                  bool accumulate) {
  ForRowGroups(m, n0, n1, k, c, ldc, accumulate, [&]<int M>(int64_t r) {
    Gemv8Rows<S, W, M>(n0, n1, k, a + r * lda, lda, b, ldb, scales, c + r * ldc, ldc, accumulate);
  });
}

}  // namespace
}  // namespace lantern::tensor::simd_kernels
