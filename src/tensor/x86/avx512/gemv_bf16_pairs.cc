// Products over bfloat16 weights kept in pair tiles (gemm16.h), with AVX-512 BF16's vdpbf16ps:
// one 64-byte load and one instruction take 16 columns times two rows of K, where widening
// [K][N] weights takes two loads, four conversions and two FMAs. Against bfloat16 weights the
// inputs are bfloat16 already (gemm16.h), so the products are exact in fp32; each row's sum is
// taken pair-row by pair-row in order, whatever the rows beside it.
//
// The kernel multiplies one panel of 64 columns by a group of up to kBf16GroupRows rows: four
// loads of weights serve 4 x M instructions, and the panel, streamed tile by tile, stays in
// cache for the next group (as the int8 panel kernel, x86/avx512_vnni/gemv8.cc).
//
// Built with the avx512 variant's flags plus the BF16 extension for this file alone; installed
// only where the CPU has it (dispatch.cc).
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "tensor/dispatch.h"
#include "tensor/gemm16.h"

#pragma GCC target("avx512bf16")

namespace lantern::tensor::avx512_bf16 {
namespace {

constexpr int kVectors = static_cast<int>(kBf16PanelColumns / 16);
constexpr int64_t kPairValues = kBf16PanelColumns * 2;  // one pair-row of a tile
// Tiles ahead that the kernel prefetches: the panel's tiles are 4 KiB apart runs, which the
// hardware prefetchers, bound to pages, pick up late.
constexpr int64_t kAheadTiles = 2;

__m512bh InputPair(const uint16_t* a, int64_t pair) {
  uint32_t bits;
  std::memcpy(&bits, a + 2 * pair, sizeof(bits));
  return reinterpret_cast<__m512bh>(_mm512_set1_epi32(static_cast<int>(bits)));
}

// M rows times NP panels side by side (panel, panel + 1, ...): NP streams of weights.
template <int M, int NP>
void Panel(int64_t p0, int64_t p1, const uint16_t* a, int64_t lda, const uint16_t* b,
           int64_t panels, int64_t panel, float* c, int64_t ldc, bool load_c) {
  constexpr int kLanes = NP * kVectors;
  __m512 acc[M][kLanes];
  for (int r = 0; r < M; ++r) {
    for (int v = 0; v < kLanes; ++v) {
      acc[r][v] = load_c ? _mm512_loadu_ps(c + r * ldc + v * 16) : _mm512_setzero_ps();
    }
  }
  for (int64_t p = p0; p < p1;) {
    const int64_t band = p / kBf16TilePairs;
    const int64_t end = std::min(p1, (band + 1) * kBf16TilePairs);
    const uint16_t* tile[NP];
    uintptr_t ahead[NP];
    for (int t = 0; t < NP; ++t) {
      tile[t] = b + Bf16TileOffset(band, panel + t, panels);
      // An address only (past the matrix near its end): prefetches never fault.
      ahead[t] = reinterpret_cast<uintptr_t>(b) +
                 2 * static_cast<uintptr_t>(Bf16TileOffset(band + kAheadTiles, panel + t, panels));
    }
    for (; p < end; ++p) {
      const int64_t at = (p - band * kBf16TilePairs) * kPairValues;
      __m512bh w[kLanes];
      for (int t = 0; t < NP; ++t) {
        for (int v = 0; v < kVectors; ++v) {
          _mm_prefetch(reinterpret_cast<const char*>(ahead[t] + 2 * (at + v * 32)), _MM_HINT_T0);
          w[t * kVectors + v] =
              reinterpret_cast<__m512bh>(_mm512_loadu_si512(tile[t] + at + v * 32));
        }
      }
      for (int r = 0; r < M; ++r) {
        const __m512bh x = InputPair(a + r * lda, p);
        for (int v = 0; v < kLanes; ++v) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], x, w[v]);
      }
    }
  }
  for (int r = 0; r < M; ++r) {
    for (int v = 0; v < kLanes; ++v) _mm512_storeu_ps(c + r * ldc + v * 16, acc[r][v]);
  }
}

void PanelRows(int m, int64_t p0, int64_t p1, const uint16_t* a, int64_t lda, const uint16_t* b,
               int64_t panels, int64_t panel, int count, float* c, int64_t ldc, bool load_c) {
  static_assert(Gemv16Kernels::kBf16GroupRows == 6 && Gemv16Kernels::kBf16PairedPanelRows == 2);
  if (count == 4) return Panel<1, 4>(p0, p1, a, lda, b, panels, panel, c, ldc, load_c);
  if (count == 2) {
    return m == 1 ? Panel<1, 2>(p0, p1, a, lda, b, panels, panel, c, ldc, load_c)
                  : Panel<2, 2>(p0, p1, a, lda, b, panels, panel, c, ldc, load_c);
  }
  switch (m) {
    case 1:
      return Panel<1, 1>(p0, p1, a, lda, b, panels, panel, c, ldc, load_c);
    case 2:
      return Panel<2, 1>(p0, p1, a, lda, b, panels, panel, c, ldc, load_c);
    case 3:
      return Panel<3, 1>(p0, p1, a, lda, b, panels, panel, c, ldc, load_c);
    case 4:
      return Panel<4, 1>(p0, p1, a, lda, b, panels, panel, c, ldc, load_c);
    case 5:
      return Panel<5, 1>(p0, p1, a, lda, b, panels, panel, c, ldc, load_c);
    default:
      return Panel<6, 1>(p0, p1, a, lda, b, panels, panel, c, ldc, load_c);
  }
}

}  // namespace

void InstallGemv16(Gemv16Kernels& table) { table.bf16_pair_panel = PanelRows; }

}  // namespace lantern::tensor::avx512_bf16
