// The portable variant: every kernel, for any CPU; the reference the others are tested
// against.
#include <cstring>

#include "tensor/dispatch.h"
#include "tensor/half.h"
#include "tensor/portable/half_vec.h"
#include "tensor/portable/vec.h"
#include "tensor/simd_attention.h"
#include "tensor/simd_gemv.h"
#include "tensor/simd_kernels.h"

namespace lantern::tensor::portable {
namespace {

void HalfToFloat(const uint16_t* in, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = HalfBitsToFloat(in[i]);
}

void BFloat16ToFloat(const uint16_t* in, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t bits = static_cast<uint32_t>(in[i]) << 16;
    std::memcpy(out + i, &bits, sizeof(bits));
  }
}

}  // namespace

void InstallElementwise(ElementwiseKernels& table) {
  simd_kernels::FillElementwise<Vec>(table);
  table.half_to_float = HalfToFloat;
  table.bfloat16_to_float = BFloat16ToFloat;
}

void InstallGemv(GemvKernels& table) { simd_kernels::FillGemv<Vec>(table); }

void InstallAttention(AttentionKernels& table) {
  simd_kernels::FillAttention<Vec, BFloat16, Half>(table);
}

}  // namespace lantern::tensor::portable
