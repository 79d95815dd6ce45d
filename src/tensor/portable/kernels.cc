// The portable variant: every kernel, for any CPU; the reference the others are tested
// against.
#include <cstring>

#include "tensor/dispatch.h"
#include "tensor/portable/vec.h"
#include "tensor/simd_kernels.h"

namespace lantern::tensor::portable {
namespace {

float HalfBitsToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1Fu;
  uint32_t mantissa = h & 0x3FFu;
  uint32_t bits;
  if (exponent == 0x1F) {
    bits = sign | 0x7F800000u | (mantissa << 13);  // inf, nan
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {  // subnormal half: normalize
    int e = -1;
    do {
      ++e;
      mantissa <<= 1;
    } while ((mantissa & 0x400u) == 0);
    bits = sign | static_cast<uint32_t>(112 - e) << 23 | ((mantissa & 0x3FFu) << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

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

void InstallAttention(AttentionKernels& table) { simd_kernels::FillAttention<Vec>(table); }

}  // namespace lantern::tensor::portable
