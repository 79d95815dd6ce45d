// The AVX-512 VNNI int8 panel kernel (gemm8.h, dispatch.h's Gemv8Kernels): vpdpbusd adds four
// unsigned-by-signed byte products into each int32 lane, one lane per column, a whole panel
// row group (64 columns x 4 inputs) in four instructions. Activations enter unsigned as
// qa + 128; the 128 * sum(qw) that adds is taken back per block. With few rows (decoding) the
// kernel sums the weights itself, a vpdpbusd of the same weights by ones; with many, Gemm8
// computes each panel's offsets once and the sums start from them, which leaves the loop
// nothing but the products.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "tensor/dispatch.h"
#include "tensor/gemm8.h"
#include "tensor/skinny_split.h"

namespace lantern::tensor::avx512_vnni {
namespace {

constexpr int kVectors = static_cast<int>(kInt8PanelColumns / 16);
constexpr int kGroups = static_cast<int>(kInt8BlockRows / 4);
constexpr int64_t kBlockBytes = kInt8BlockRows * kInt8PanelColumns;

// Four activations as unsigned bytes in every lane: qa + 128, or qa as they are when the
// caller offset them already.
template <bool kOffsetAlready>
inline __m512i UnsignedFour(const int8_t* qa) {
  int32_t four;
  std::memcpy(&four, qa, sizeof(four));
  const __m512i x = _mm512_set1_epi32(four);
  return kOffsetAlready ? x : _mm512_xor_si512(x, _mm512_set1_epi8(static_cast<char>(0x80)));
}

// kOffsets: `offsets` holds the blocks' -128 x sum(qw) and qa is offset already (dispatch.h's
// offset_panel); otherwise the weights are summed here and qa offset here.
template <int M, bool kOffsets>
void Panel(int64_t blocks, const int8_t* qa, int64_t lda8, const float* sa, const int8_t* values,
           const float* scales, const int32_t* offsets, float* tile) {
  const __m512i ones = _mm512_set1_epi8(1);
  for (int64_t b = 0; b < blocks; ++b) {
    __m512i sums[M][kVectors], weight_sums[kVectors];
    for (int v = 0; v < kVectors; ++v) {
      weight_sums[v] = _mm512_setzero_si512();
      const __m512i start = kOffsets ? _mm512_loadu_si512(offsets + b * kInt8PanelColumns + v * 16)
                                     : _mm512_setzero_si512();
      for (int r = 0; r < M; ++r) sums[r][v] = start;
    }
    const int8_t* block = values + b * kBlockBytes;
    // Two blocks ahead: the panel is read once, front to back.
    for (int64_t line = 0; line < kBlockBytes; line += 64) {
      _mm_prefetch(reinterpret_cast<const char*>(block + 2 * kBlockBytes + line), _MM_HINT_T0);
    }
    for (int g = 0; g < kGroups; ++g) {
      const int8_t* group = block + g * 4 * kInt8PanelColumns;
      __m512i w[kVectors];
      for (int v = 0; v < kVectors; ++v) {
        w[v] = _mm512_loadu_si512(group + v * 64);
        if (!kOffsets) weight_sums[v] = _mm512_dpbusd_epi32(weight_sums[v], ones, w[v]);
      }
      for (int r = 0; r < M; ++r) {
        const __m512i x = UnsignedFour<kOffsets>(qa + r * lda8 + b * kInt8BlockRows + g * 4);
        for (int v = 0; v < kVectors; ++v) sums[r][v] = _mm512_dpbusd_epi32(sums[r][v], x, w[v]);
      }
    }
    for (int v = 0; v < kVectors; ++v) {
      const __m512i offset = _mm512_slli_epi32(weight_sums[v], 7);
      const __m512 scale = _mm512_loadu_ps(scales + b * kInt8PanelColumns + v * 16);
      for (int r = 0; r < M; ++r) {
        float* out = tile + r * kInt8PanelColumns + v * 16;
        const __m512 s = _mm512_mul_ps(scale, _mm512_set1_ps(sa[r * blocks + b]));
        const __m512i exact = kOffsets ? sums[r][v] : _mm512_sub_epi32(sums[r][v], offset);
        _mm512_storeu_ps(out, _mm512_fmadd_ps(_mm512_cvtepi32_ps(exact), s, _mm512_loadu_ps(out)));
      }
    }
  }
}

void PanelRows(int m, int64_t blocks, const int8_t* qa, int64_t lda8, const float* sa,
               const int8_t* values, const float* scales, float* tile) {
  WithRowCount(
      m, [&]<int M>() { Panel<M, false>(blocks, qa, lda8, sa, values, scales, nullptr, tile); });
}

void OffsetPanelRows(int m, int64_t blocks, const int8_t* qa, int64_t lda8, const float* sa,
                     const int8_t* values, const float* scales, const int32_t* offsets,
                     float* tile) {
  WithRowCount(
      m, [&]<int M>() { Panel<M, true>(blocks, qa, lda8, sa, values, scales, offsets, tile); });
}

void WeightOffsets(int64_t blocks, const int8_t* values, int32_t* offsets) {
  const __m512i ones = _mm512_set1_epi8(1);
  for (int64_t b = 0; b < blocks; ++b) {
    for (int v = 0; v < kVectors; ++v) {
      __m512i sum = _mm512_setzero_si512();
      for (int g = 0; g < kGroups; ++g) {
        const int8_t* group = values + b * kBlockBytes + g * 4 * kInt8PanelColumns;
        sum = _mm512_dpbusd_epi32(sum, ones, _mm512_loadu_si512(group + v * 64));
      }
      _mm512_storeu_si512(offsets + b * kInt8PanelColumns + v * 16,
                          _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_slli_epi32(sum, 7)));
    }
  }
}

}  // namespace

void InstallGemv8(Gemv8Kernels& table) {
  table.panel = PanelRows;
  table.weight_offsets = WeightOffsets;
  table.offset_panel = OffsetPanelRows;
}

}  // namespace lantern::tensor::avx512_vnni
