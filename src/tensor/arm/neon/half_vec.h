// The NEON variant's loaders of 16-bit floats: bfloat16 widened by a shifting lengthen
// (vshll), IEEE half by fcvtl, both base armv8-a. Shared by the 16-bit GEMV (simd_gemv16.h)
// and paged attention over a 16-bit KV cache (simd_attention.h).
#pragma once

#include <arm_neon.h>

#include <cstdint>

namespace lantern::tensor::neon {
namespace {

inline uint16x4_t LoadFirst(const uint16_t* p, int n) {
  uint16_t lanes[4] = {0, 0, 0, 0};
  for (int i = 0; i < n; ++i) lanes[i] = p[i];
  return vld1_u16(lanes);
}

inline float32x4_t WidenBFloat16(uint16x4_t h) { return vreinterpretq_f32_u32(vshll_n_u16(h, 16)); }

inline float32x4_t WidenHalf(uint16x4_t h) { return vcvt_f32_f16(vreinterpret_f16_u16(h)); }

struct BFloat16 {
  static float32x4_t Load(const uint16_t* p) { return WidenBFloat16(vld1_u16(p)); }
  static float32x4_t LoadPartial(const uint16_t* p, int n) {
    return WidenBFloat16(LoadFirst(p, n));
  }
};

struct Half {
  static float32x4_t Load(const uint16_t* p) { return WidenHalf(vld1_u16(p)); }
  static float32x4_t LoadPartial(const uint16_t* p, int n) { return WidenHalf(LoadFirst(p, n)); }
};

}  // namespace
}  // namespace lantern::tensor::neon
