// The skinny GEMM over 16-bit weights (see gemv.h and dispatch.h's Gemv16Kernels), one body
// for every variant: a variant supplies its vector type S and, per weight format, a loader W
// that widens kLanes 16-bit values to one S::V (W::Load, and W::LoadPartial for the first n
// lanes). Decoding is bound by the bytes of weights read, so the widening is free and the
// sums stay fp32. Internal to the variant files, like simd_kernels.h.
#pragma once

#include <algorithm>
#include <cstdint>

#include "tensor/dispatch.h"
#include "tensor/skinny_split.h"

namespace lantern::tensor::simd_kernels {
namespace {

// Columns [n0, n1) for weight rows [k0, k1), M rows of A, NV vectors of columns a tile.
template <class S, class W, int M, int NV>
void Gemv16Block(int64_t n0, int64_t n1, int64_t k0, int64_t k1, const float* a, int64_t lda,
                 const uint16_t* b, int64_t ldb, float* c, int64_t ldc, bool load_c) {
  constexpr int L = S::kLanes;
  constexpr int64_t kAhead = 512;  // software prefetch distance along a weight row, in values
  int64_t j = n0;
  for (; j + NV * L <= n1; j += NV * L) {
    typename S::V acc[M][NV];
    for (int r = 0; r < M; ++r) {
      for (int v = 0; v < NV; ++v)
        acc[r][v] = load_c ? S::Load(c + r * ldc + j + v * L) : S::Zero();
    }
    for (int64_t p = k0; p < k1; ++p) {
      const uint16_t* w = b + p * ldb + j;
      for (int v = 0; v < NV * L; v += 32) __builtin_prefetch(w + kAhead + v);
      typename S::V wv[NV];
      for (int v = 0; v < NV; ++v) wv[v] = W::Load(w + v * L);
      for (int r = 0; r < M; ++r) {
        const typename S::V x = S::Set1(a[r * lda + p]);
        for (int v = 0; v < NV; ++v) acc[r][v] = S::MulAdd(x, wv[v], acc[r][v]);
      }
    }
    for (int r = 0; r < M; ++r) {
      for (int v = 0; v < NV; ++v) S::Store(c + r * ldc + j + v * L, acc[r][v]);
    }
  }
  for (; j < n1; j += L) {
    const int n = static_cast<int>(std::min<int64_t>(L, n1 - j));
    typename S::V acc[M];
    for (int r = 0; r < M; ++r) acc[r] = load_c ? S::LoadPartial(c + r * ldc + j, n) : S::Zero();
    for (int64_t p = k0; p < k1; ++p) {
      const typename S::V w = W::LoadPartial(b + p * ldb + j, n);
      for (int r = 0; r < M; ++r) acc[r] = S::MulAdd(S::Set1(a[r * lda + p]), w, acc[r]);
    }
    for (int r = 0; r < M; ++r) S::StorePartial(c + r * ldc + j, acc[r], n);
  }
}

// Weight rows per block, as kGemvBlockRows for fp32 weights: 32 rows of 16-bit values are
// as many bytes per stream.
inline constexpr int64_t kGemv16BlockRows = 32;

template <class S, class W, int M>
void Gemv16Rows(int64_t n0, int64_t n1, int64_t k, const float* a, int64_t lda, const uint16_t* b,
                int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  for (int64_t k0 = 0; k0 < k; k0 += kGemv16BlockRows) {
    Gemv16Block<S, W, M, S::GemvVectors(M)>(n0, n1, k0, std::min(k, k0 + kGemv16BlockRows), a, lda,
                                            b, ldb, c, ldc, accumulate || k0 > 0);
  }
}

// One thread's columns [n0, n1), rows of A up to four at a time.
template <class S, class W>
void Gemv16Columns(int64_t m, int64_t n0, int64_t n1, int64_t k, const float* a, int64_t lda,
                   const uint16_t* b, int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  ForRowGroups(m, n0, n1, k, c, ldc, accumulate, [&]<int M>(int64_t r) {
    Gemv16Rows<S, W, M>(n0, n1, k, a + r * lda, lda, b, ldb, c + r * ldc, ldc, accumulate);
  });
}

// Fills the table from a variant's vector type and its two loaders.
template <class S, class BF16, class F16>
void FillGemv16(Gemv16Kernels& table) {
  table.bf16_columns = Gemv16Columns<S, BF16>;
  table.f16_columns = Gemv16Columns<S, F16>;
}

}  // namespace
}  // namespace lantern::tensor::simd_kernels
