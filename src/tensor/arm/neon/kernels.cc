// The NEON variant (aarch64 Advanced SIMD): the kernel bodies of simd_kernels.h on q
// registers, and the half-precision conversion NEON has in hardware.
#include <arm_neon.h>

#include "tensor/arm/neon/half_vec.h"
#include "tensor/arm/neon/vec.h"
#include "tensor/dispatch.h"
#include "tensor/simd_attention.h"
#include "tensor/simd_gemv.h"
#include "tensor/simd_kernels.h"

namespace lantern::tensor::neon {
namespace {

void HalfToFloat(const uint16_t* in, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    vst1q_f32(out + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(in + i))));
  }
  for (; i < n; ++i) {
    float16x4_t h = vreinterpret_f16_u16(vdup_n_u16(in[i]));
    out[i] = vgetq_lane_f32(vcvt_f32_f16(h), 0);
  }
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

}  // namespace lantern::tensor::neon
