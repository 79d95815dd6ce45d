// The AVX2 variant (AVX2 + FMA + F16C): the kernel bodies of simd_kernels.h on ymm
// registers, and F16C's half-precision conversion.
#include <immintrin.h>

#include "tensor/dispatch.h"
#include "tensor/simd_attention.h"
#include "tensor/simd_gemv.h"
#include "tensor/simd_kernels.h"
#include "tensor/x86/avx2/half_vec.h"
#include "tensor/x86/avx2/vec.h"

namespace lantern::tensor::avx2 {
namespace {

void HalfToFloat(const uint16_t* in, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(h));
  }
  for (; i < n; ++i) out[i] = _cvtsh_ss(in[i]);
}

}  // namespace

void InstallElementwise(ElementwiseKernels& table) {
  simd_kernels::FillElementwise<Vec>(table);
  table.half_to_float = HalfToFloat;
}

void InstallGemv(GemvKernels& table) { simd_kernels::FillGemv<Vec>(table); }

void InstallAttention(AttentionKernels& table) {
  simd_kernels::FillAttention<Vec, BFloat16, Half>(table);
}

}  // namespace lantern::tensor::avx2
