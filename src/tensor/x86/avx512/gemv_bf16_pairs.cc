// The skinny GEMM over bfloat16 weights kept pair-interleaved (gemm16.h: [ceil(K/2)][N][2]),
// with AVX-512 BF16's vdpbf16ps: one 64-byte load and one instruction take 16 columns times
// two rows of K, where widening [K][N] weights takes two loads, four conversions and two FMAs.
// Against bfloat16 weights the inputs are bfloat16 already (gemm16.h), so the products are the
// exact ones the widening kernels compute; only the order of the fp32 sums differs. Measured
// on a Zen 5 (docs/performance.md): 20-40% more bytes a second than the widening kernel, which
// leaves the memory system idle while its instructions retire.
//
// Built with the avx512 variant's flags plus the BF16 extension for this file alone; installed
// only where the CPU has it (dispatch.cc).
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "tensor/dispatch.h"
#include "tensor/skinny_split.h"

#pragma GCC target("avx512bf16")

namespace lantern::tensor::avx512_bf16 {
namespace {

// Pair-rows of K per block: eight streams of weights at a time, each read 512 bytes (M = 1)
// along; fewer streams than the widening kernel's 32 rows let the prefetchers keep up.
constexpr int64_t kBlockPairs = 8;
// Software prefetch distance along a pair-row, in 16-bit values (1 KiB).
constexpr int64_t kAhead = 512;

__m512bh InputPair(const uint16_t* a, int64_t pair) {
  uint32_t bits;
  std::memcpy(&bits, a + 2 * pair, sizeof(bits));
  return reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(bits)));
}

__m512bh WeightPairs(const uint16_t* p) {
  return reinterpret_cast<__m512bh>(_mm512_loadu_si512(p));
}

// Pairs of the first n (< 16) columns.
__m512bh FirstWeightPairs(const uint16_t* p, int n) {
  const __mmask32 mask = static_cast<__mmask32>((uint64_t{1} << (2 * n)) - 1);
  return reinterpret_cast<__m512bh>(_mm512_maskz_loadu_epi16(mask, p));
}

__mmask16 FirstLanes(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << n) - 1u);
}

// Columns [n0, n1) for pair-rows [p0, p1) of B (n columns a row), M rows of A, NV vectors of
// 16 columns a tile. Each of C's values starts from C when load_c, else from 0.
template <int M, int NV>
void Block(int64_t n0, int64_t n1, int64_t p0, int64_t p1, const uint16_t* a, int64_t lda,
           const uint16_t* b, int64_t n, float* c, int64_t ldc, bool load_c) {
  int64_t j = n0;
  for (; j + NV * 16 <= n1; j += NV * 16) {
    __m512 acc[M][NV];
    for (int r = 0; r < M; ++r) {
      for (int v = 0; v < NV; ++v) {
        acc[r][v] = load_c ? _mm512_loadu_ps(c + r * ldc + j + v * 16) : _mm512_setzero_ps();
      }
    }
    for (int64_t p = p0; p < p1; ++p) {
      const uint16_t* w = b + p * 2 * n + 2 * j;
      for (int v = 0; v < NV; ++v)
        _mm_prefetch(reinterpret_cast<const char*>(w + kAhead + v * 32), _MM_HINT_T0);
      __m512bh wv[NV];
      for (int v = 0; v < NV; ++v) wv[v] = WeightPairs(w + v * 32);
      for (int r = 0; r < M; ++r) {
        const __m512bh x = InputPair(a + r * lda, p);
        for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], x, wv[v]);
      }
    }
    for (int r = 0; r < M; ++r) {
      for (int v = 0; v < NV; ++v) _mm512_storeu_ps(c + r * ldc + j + v * 16, acc[r][v]);
    }
  }
  for (; j < n1; j += 16) {
    const int64_t width = std::min<int64_t>(16, n1 - j);
    const __mmask16 lanes = FirstLanes(width);
    __m512 acc[M];
    for (int r = 0; r < M; ++r) {
      acc[r] = load_c ? _mm512_maskz_loadu_ps(lanes, c + r * ldc + j) : _mm512_setzero_ps();
    }
    for (int64_t p = p0; p < p1; ++p) {
      const __m512bh w = FirstWeightPairs(b + p * 2 * n + 2 * j, static_cast<int>(width));
      for (int r = 0; r < M; ++r) acc[r] = _mm512_dpbf16_ps(acc[r], InputPair(a + r * lda, p), w);
    }
    for (int r = 0; r < M; ++r) _mm512_mask_storeu_ps(c + r * ldc + j, lanes, acc[r]);
  }
}

template <int M>
void Rows(int64_t n0, int64_t n1, int64_t k, const uint16_t* a, int64_t lda, const uint16_t* b,
          int64_t n, float* c, int64_t ldc, bool accumulate) {
  // 32 zmm registers: M x NV accumulators plus NV weight vectors.
  constexpr int kVectors = M == 1 ? 8 : 4;
  const int64_t pairs = (k + 1) / 2;
  for (int64_t p0 = 0; p0 < pairs; p0 += kBlockPairs) {
    Block<M, kVectors>(n0, n1, p0, std::min(pairs, p0 + kBlockPairs), a, lda, b, n, c, ldc,
                       accumulate || p0 > 0);
  }
}

void PairColumns(int64_t m, int64_t n0, int64_t n1, int64_t k, const uint16_t* a, int64_t lda,
                 const uint16_t* b, int64_t n, float* c, int64_t ldc, bool accumulate) {
  ForRowGroups(m, n0, n1, k, c, ldc, accumulate, [&]<int M>(int64_t r) {
    Rows<M>(n0, n1, k, a + r * lda, lda, b, n, c + r * ldc, ldc, accumulate);
  });
}

// Rows [0, k) of columns [j0, j0 + width) of pair-interleaved B as a plain [k][width] matrix:
// even values of each pair-row to row 2p, odd ones to row 2p + 1, 32 columns a step.
void PairsToRows(const uint16_t* b, int64_t n, int64_t k, int64_t j0, int64_t width,
                 uint16_t* out) {
  const __m512i even =
      _mm512_set_epi16(62, 60, 58, 56, 54, 52, 50, 48, 46, 44, 42, 40, 38, 36, 34, 32, 30, 28, 26,
                       24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i odd = _mm512_add_epi16(even, _mm512_set1_epi16(1));
  for (int64_t p = 0; 2 * p < k; ++p) {
    const uint16_t* src = b + p * 2 * n + 2 * j0;
    uint16_t* row0 = out + 2 * p * width;
    uint16_t* row1 = row0 + width;
    const bool second = 2 * p + 1 < k;
    int64_t j = 0;
    for (; j + 32 <= width; j += 32) {
      const __m512i lo = _mm512_loadu_si512(src + 2 * j);
      const __m512i hi = _mm512_loadu_si512(src + 2 * j + 32);
      _mm512_storeu_si512(row0 + j, _mm512_permutex2var_epi16(lo, even, hi));
      if (second) _mm512_storeu_si512(row1 + j, _mm512_permutex2var_epi16(lo, odd, hi));
    }
    for (; j < width; ++j) {
      row0[j] = src[2 * j];
      if (second) row1[j] = src[2 * j + 1];
    }
  }
}

}  // namespace

void InstallGemv16(Gemv16Kernels& table) {
  table.bf16_pair_columns = PairColumns;
  table.bf16_pairs_to_rows = PairsToRows;
}

}  // namespace lantern::tensor::avx512_bf16
