// The portable variant's loaders of 16-bit floats (bfloat16, IEEE half): scalar widening in
// fixed-length loops the compiler vectorizes. Shared by the 16-bit GEMV (simd_gemv16.h) and
// paged attention over a 16-bit KV cache (simd_attention.h).
#pragma once

#include <cstdint>

#include "tensor/half.h"
#include "tensor/portable/vec.h"

namespace lantern::tensor::portable {
namespace {

template <float (*Widen)(uint16_t)>
struct HalfLoader {
  static Vec::V Load(const uint16_t* p) {
    return Vec::Map([p](int i) { return Widen(p[i]); });
  }
  static Vec::V LoadPartial(const uint16_t* p, int n) {
    return Vec::Map([p, n](int i) { return i < n ? Widen(p[i]) : 0.0f; });
  }
};

using BFloat16 = HalfLoader<BFloat16BitsToFloat>;
using Half = HalfLoader<HalfBitsToFloat>;

}  // namespace
}  // namespace lantern::tensor::portable
