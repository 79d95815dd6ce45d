// The NEON variant of the skinny GEMMs over narrow weights: 16-bit floats by half_vec.h's
// loaders, int8 by two lengthens and a conversion, all in base armv8-a (see simd_gemv16.h,
// simd_gemv8.h).
#include <arm_neon.h>

#include "tensor/arm/neon/half_vec.h"
#include "tensor/arm/neon/vec.h"
#include "tensor/dispatch.h"
#include "tensor/simd_gemv16.h"
#include "tensor/simd_gemv8.h"

namespace lantern::tensor::neon {
namespace {

float32x4_t WidenInt8(const int8_t* four) {
  int8_t lanes[8] = {four[0], four[1], four[2], four[3], 0, 0, 0, 0};
  return vcvtq_f32_s32(vmovl_s16(vget_low_s16(vmovl_s8(vld1_s8(lanes)))));
}

struct Int8 {
  static float32x4_t Load(const int8_t* p) { return WidenInt8(p); }
  static float32x4_t LoadPartial(const int8_t* p, int n) {
    int8_t lanes[4] = {0, 0, 0, 0};
    for (int i = 0; i < n; ++i) lanes[i] = p[i];
    return WidenInt8(lanes);
  }
};

}  // namespace

void InstallGemv8(Gemv8Kernels& table) { table.columns = simd_kernels::Gemv8Columns<Vec, Int8>; }

void InstallGemv16(Gemv16Kernels& table) { simd_kernels::FillGemv16<Vec, BFloat16, Half>(table); }

}  // namespace lantern::tensor::neon
