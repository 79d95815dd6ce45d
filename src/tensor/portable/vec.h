// The portable variant's vector: eight floats in plain C++, every operation a fixed-length
// loop that the compiler turns into the baseline's SIMD (SSE4.2 on x86-64-v2, NEON on
// armv8-a). Rounding and 2^n use arithmetic and bit tricks rather than libm, so they
// vectorize too.
#pragma once

#include <cstdint>
#include <cstring>

namespace lantern::tensor::portable {
namespace {

struct Vec {
  static constexpr int kLanes = 8;
  struct V {
    float v[kLanes];
  };
  // Partial sums kept per column tile of the skinny GEMM (16 SSE registers hold 2 x 2 V
  // of accumulators and their weights).
  static constexpr int GemvVectors(int m) { return m <= 2 ? 2 : 1; }

  template <class F>
  static V Map(F f) {
    V r;
    for (int i = 0; i < kLanes; ++i) r.v[i] = f(i);
    return r;
  }
  static V Zero() { return Set1(0.0f); }
  static V Set1(float x) {
    return Map([x](int) { return x; });
  }
  static V Load(const float* p) {
    return Map([p](int i) { return p[i]; });
  }
  static void Store(float* p, V a) {
    for (int i = 0; i < kLanes; ++i) p[i] = a.v[i];
  }
  static V LoadPartial(const float* p, int n) {
    return Map([p, n](int i) { return i < n ? p[i] : 0.0f; });
  }
  static void StorePartial(float* p, V a, int n) {
    for (int i = 0; i < n; ++i) p[i] = a.v[i];
  }
  static V Add(V a, V b) {
    return Map([&](int i) { return a.v[i] + b.v[i]; });
  }
  static V Sub(V a, V b) {
    return Map([&](int i) { return a.v[i] - b.v[i]; });
  }
  static V Mul(V a, V b) {
    return Map([&](int i) { return a.v[i] * b.v[i]; });
  }
  static V Div(V a, V b) {
    return Map([&](int i) { return a.v[i] / b.v[i]; });
  }
  static V Max(V a, V b) {
    return Map([&](int i) { return a.v[i] > b.v[i] ? a.v[i] : b.v[i]; });
  }
  static V Min(V a, V b) {
    return Map([&](int i) { return a.v[i] < b.v[i] ? a.v[i] : b.v[i]; });
  }
  static V MulAdd(V a, V b, V c) {
    return Map([&](int i) { return a.v[i] * b.v[i] + c.v[i]; });
  }
  // Adding and removing 1.5 * 2^23 rounds to the nearest integer for |x| < 2^22.
  static V Round(V a) {
    return Map([&](int i) { return (a.v[i] + 12582912.0f) - 12582912.0f; });
  }
  static V Pow2(V n) {
    return Map([&](int i) {
      const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(n.v[i]) + 127) << 23;
      float f;
      std::memcpy(&f, &bits, sizeof(f));
      return f;
    });
  }
  static float ReduceAdd(V a) {
    float s = 0.0f;
    for (int i = 0; i < kLanes; ++i) s += a.v[i];
    return s;
  }
  static float ReduceMax(V a) {
    float m = a.v[0];
    for (int i = 1; i < kLanes; ++i) m = a.v[i] > m ? a.v[i] : m;
    return m;
  }
};

}  // namespace
}  // namespace lantern::tensor::portable
