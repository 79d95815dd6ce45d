// The AVX-512 VNNI int8 panel kernel (gemm8.h, dispatch.h's Gemv8Kernels): vpdpbusd adds four
// unsigned-by-signed byte products into each int32 lane, one lane per column, a whole panel
// row group (64 columns x 4 inputs) in four instructions. Activations enter unsigned as
// qa + 128; the 128 * sum(qw) that adds is taken back per block from a vpdpbusd of the same
// weights by ones, shared by the rows of the group.
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

template <int M>
void Panel(int64_t blocks, const int8_t* qa, int64_t lda8, const float* sa, const int8_t* values,
           const float* scales, float* tile) {
  const __m512i ones = _mm512_set1_epi8(1);
  const __m512i to_unsigned = _mm512_set1_epi8(static_cast<char>(0x80));
  for (int64_t b = 0; b < blocks; ++b) {
    __m512i sums[M][kVectors], weight_sums[kVectors];
    for (int v = 0; v < kVectors; ++v) {
      weight_sums[v] = _mm512_setzero_si512();
      for (int r = 0; r < M; ++r) sums[r][v] = _mm512_setzero_si512();
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
        weight_sums[v] = _mm512_dpbusd_epi32(weight_sums[v], ones, w[v]);
      }
      for (int r = 0; r < M; ++r) {
        int32_t four;
        std::memcpy(&four, qa + r * lda8 + b * kInt8BlockRows + g * 4, sizeof(four));
        const __m512i x = _mm512_xor_si512(_mm512_set1_epi32(four), to_unsigned);
        for (int v = 0; v < kVectors; ++v) sums[r][v] = _mm512_dpbusd_epi32(sums[r][v], x, w[v]);
      }
    }
    for (int v = 0; v < kVectors; ++v) {
      const __m512i offset = _mm512_slli_epi32(weight_sums[v], 7);
      const __m512 scale = _mm512_loadu_ps(scales + b * kInt8PanelColumns + v * 16);
      for (int r = 0; r < M; ++r) {
        float* out = tile + r * kInt8PanelColumns + v * 16;
        const __m512 s = _mm512_mul_ps(scale, _mm512_set1_ps(sa[r * blocks + b]));
        const __m512 sum = _mm512_cvtepi32_ps(_mm512_sub_epi32(sums[r][v], offset));
        _mm512_storeu_ps(out, _mm512_fmadd_ps(sum, s, _mm512_loadu_ps(out)));
      }
    }
  }
}

void PanelRows(int m, int64_t blocks, const int8_t* qa, int64_t lda8, const float* sa,
               const int8_t* values, const float* scales, float* tile) {
  WithRowCount(m, [&]<int M>() { Panel<M>(blocks, qa, lda8, sa, values, scales, tile); });
}

}  // namespace

void InstallGemv8(Gemv8Kernels& table) { table.panel = PanelRows; }

}  // namespace lantern::tensor::avx512_vnni
