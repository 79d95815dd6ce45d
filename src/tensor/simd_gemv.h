// The skinny GEMM's body (see gemv.h) written once over a vector type S, for the portable,
// AVX2 and NEON variants, and its prefetching shared with the AVX-512 variant's own tiles.
// Internal to the variant files, like simd_kernels.h (same rules on linkage).
#pragma once

#include <algorithm>
#include <cstdint>

#include "tensor/dispatch.h"

namespace lantern::tensor::simd_kernels {

// Weight rows per block: enough that the partial sums' round trip through L1 is a small
// share of the loads, few enough that the block's streams stay within what the L2
// streamer tracks.
inline constexpr int64_t kGemvBlockRows = 16;

// Software prefetch for the skinny GEMM. A thread reads its columns [n0, n1) block of
// kGemvBlockRows rows after block, tile after tile within a block, row after row within a
// tile. Each row's share is short where the matrix is narrow (576 columns over two threads:
// 1152 bytes), too short for the hardware prefetchers, and a fixed distance along the row
// then lands in the other thread's columns. So each tile row prefetches the lines that the
// same row index will need kGemvAhead columns later in the thread's own order: further along
// the row, or past n1 wrapped to the first columns of the next block's rows. Measured on
// Zen 5 at AVX2 (docs/performance.md): 576-column matrices from 25 to 40 GB/s, wide ones
// unchanged or better; 256 and 512 columns were slightly slower than 384.
inline constexpr int64_t kGemvAhead = 384;

// Internal linkage, like the S instantiations: each variant keeps its own copy, compiled
// with its own target flags.
namespace {

// Runs body(p, w) for the rows p in [k0, k1) of the tile of kLines cache lines at column j
// (w = b + p * ldb + j), prefetching each row's lines kGemvAhead columns ahead as above.
// Prefetches that would fall past row k are left out.
template <int kLines, class Body>
inline void GemvTileRows(int64_t n0, int64_t n1, int64_t j, int64_t k0, int64_t k1, int64_t k,
                         const float* b, int64_t ldb, Body body) {
  if (j + 16 * kLines + kGemvAhead <= n1) {  // the common case on wide matrices: same row
    for (int64_t p = k0; p < k1; ++p) {
      const float* w = b + p * ldb + j;
      for (int l = 0; l < kLines; ++l) __builtin_prefetch(w + kGemvAhead + 16 * l);
      body(p, w);
    }
    return;
  }
  int64_t offset[kLines];  // floats from w to the line's target
  int64_t valid = k1;      // rows before it have every target inside the matrix
  const int64_t width = n1 - n0;
  for (int l = 0; l < kLines; ++l) {
    int64_t at = j + 16 * l - n0 + kGemvAhead, rows = 0;
    if (at >= width) {
      rows = at / width * kGemvBlockRows;
      at %= width;
    }
    offset[l] = rows * ldb + n0 + at - j;
    valid = std::min(valid, k - rows);
  }
  int64_t p = k0;
  for (; p < valid; ++p) {
    const float* w = b + p * ldb + j;
    for (int l = 0; l < kLines; ++l) __builtin_prefetch(w + offset[l]);
    body(p, w);
  }
  for (; p < k1; ++p) body(p, b + p * ldb + j);  // the last rows: their targets lie past k
}

}  // namespace

// Skinny GEMM (see gemv.h): columns [n0, n1) for weight rows [k0, k1) of k, M rows of A,
// with tiles of NV vectors of columns whose M x NV partial sums stay in registers.
template <class S, int M, int NV>
void GemvBlock(int64_t n0, int64_t n1, int64_t k0, int64_t k1, int64_t k, const float* a,
               int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, bool load_c) {
  constexpr int L = S::kLanes;
  constexpr int kLines = (NV * L + 15) / 16;  // cache lines a tile row touches (at most)
  int64_t j = n0;
  for (; j + NV * L <= n1; j += NV * L) {
    typename S::V acc[M][NV];
    for (int r = 0; r < M; ++r) {
      for (int v = 0; v < NV; ++v)
        acc[r][v] = load_c ? S::Load(c + r * ldc + j + v * L) : S::Zero();
    }
    GemvTileRows<kLines>(n0, n1, j, k0, k1, k, b, ldb, [&](int64_t p, const float* w) {
      typename S::V wv[NV];
      for (int v = 0; v < NV; ++v) wv[v] = S::Load(w + v * L);
      for (int r = 0; r < M; ++r) {
        const typename S::V x = S::Set1(a[r * lda + p]);
        for (int v = 0; v < NV; ++v) acc[r][v] = S::MulAdd(x, wv[v], acc[r][v]);
      }
    });
    for (int r = 0; r < M; ++r) {
      for (int v = 0; v < NV; ++v) S::Store(c + r * ldc + j + v * L, acc[r][v]);
    }
  }
  for (; j < n1; j += L) {
    const int n = static_cast<int>(std::min<int64_t>(L, n1 - j));
    typename S::V acc[M];
    for (int r = 0; r < M; ++r) acc[r] = load_c ? S::LoadPartial(c + r * ldc + j, n) : S::Zero();
    GemvTileRows<1>(n0, n1, j, k0, k1, k, b, ldb, [&](int64_t p, const float* w) {
      const typename S::V wv = n == L ? S::Load(w) : S::LoadPartial(w, n);
      for (int r = 0; r < M; ++r) acc[r] = S::MulAdd(S::Set1(a[r * lda + p]), wv, acc[r]);
    });
    for (int r = 0; r < M; ++r) S::StorePartial(c + r * ldc + j, acc[r], n);
  }
}

// The generic tiles as a GEMV block kernel B (see GemvColumns).
template <class S>
struct GemvTiles {
  template <int M>
  static void Block(int64_t n0, int64_t n1, int64_t k0, int64_t k1, int64_t k, const float* a,
                    int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, bool load_c) {
    GemvBlock<S, M, S::GemvVectors(M)>(n0, n1, k0, k1, k, a, lda, b, ldb, c, ldc, load_c);
  }
};

template <class B, int M>
void GemvRows(int64_t n0, int64_t n1, int64_t k, const float* a, int64_t lda, const float* b,
              int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  for (int64_t k0 = 0; k0 < k; k0 += kGemvBlockRows) {
    B::template Block<M>(n0, n1, k0, std::min(k, k0 + kGemvBlockRows), k, a, lda, b, ldb, c, ldc,
                         accumulate || k0 > 0);
  }
}

// The skinny GEMM of one thread's columns [n0, n1), rows of A four at a time, over weight
// blocks of kGemvBlockRows rows. B::Block<M> computes one block for M rows.
template <class B>
void GemvColumns(int64_t m, int64_t n0, int64_t n1, int64_t k, const float* a, int64_t lda,
                 const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  if (k == 0) {
    if (!accumulate) {
      for (int64_t r = 0; r < m; ++r) {
        for (int64_t j = n0; j < n1; ++j) c[r * ldc + j] = 0.0f;
      }
    }
    return;
  }
  for (int64_t r = 0; r < m; r += 4) {
    const float* ar = a + r * lda;
    float* cr = c + r * ldc;
    switch (std::min<int64_t>(4, m - r)) {
      case 1:
        GemvRows<B, 1>(n0, n1, k, ar, lda, b, ldb, cr, ldc, accumulate);
        break;
      case 2:
        GemvRows<B, 2>(n0, n1, k, ar, lda, b, ldb, cr, ldc, accumulate);
        break;
      case 3:
        GemvRows<B, 3>(n0, n1, k, ar, lda, b, ldb, cr, ldc, accumulate);
        break;
      default:
        GemvRows<B, 4>(n0, n1, k, ar, lda, b, ldb, cr, ldc, accumulate);
        break;
    }
  }
}

// The F32 skinny GEMM entry, for a variant's installers.
template <class S>
void FillGemv(GemvKernels& table) {
  table.columns = GemvColumns<GemvTiles<S>>;
}

}  // namespace lantern::tensor::simd_kernels
