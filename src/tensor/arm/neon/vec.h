// The NEON variant's vector: four floats in a q register (aarch64 Advanced SIMD).
#pragma once

#include <arm_neon.h>

#include <cstdint>

namespace lantern::tensor::neon {
namespace {

struct Vec {
  using V = float32x4_t;
  static constexpr int kLanes = 4;
  // 32 vector registers: up to 4 x 4 accumulators plus 4 weight vectors.
  static constexpr int GemvVectors(int) { return 4; }

  static V Zero() { return vdupq_n_f32(0.0f); }
  static V Set1(float x) { return vdupq_n_f32(x); }
  static V Load(const float* p) { return vld1q_f32(p); }
  static void Store(float* p, V a) { vst1q_f32(p, a); }
  static V LoadPartial(const float* p, int n) {
    float lanes[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int i = 0; i < n; ++i) lanes[i] = p[i];
    return vld1q_f32(lanes);
  }
  static void StorePartial(float* p, V a, int n) {
    float lanes[4];
    vst1q_f32(lanes, a);
    for (int i = 0; i < n; ++i) p[i] = lanes[i];
  }
  static V Add(V a, V b) { return vaddq_f32(a, b); }
  static V Sub(V a, V b) { return vsubq_f32(a, b); }
  static V Mul(V a, V b) { return vmulq_f32(a, b); }
  static V Div(V a, V b) { return vdivq_f32(a, b); }
  static V Max(V a, V b) { return vmaxq_f32(a, b); }
  static V Min(V a, V b) { return vminq_f32(a, b); }
  static V MulAdd(V a, V b, V c) { return vfmaq_f32(c, a, b); }
  static V Round(V a) { return vrndnq_f32(a); }
  static V Pow2(V n) {
    const int32x4_t biased = vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127));
    return vreinterpretq_f32_s32(vshlq_n_s32(biased, 23));
  }
  static float ReduceAdd(V a) { return vaddvq_f32(a); }
  static float ReduceMax(V a) { return vmaxvq_f32(a); }
};

}  // namespace
}  // namespace lantern::tensor::neon
