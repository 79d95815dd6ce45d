// The portable variant of the 16-bit-weight skinny GEMM: scalar widening in fixed-length
// loops the compiler vectorizes (see simd_gemv16.h).
#include "tensor/dispatch.h"
#include "tensor/half.h"
#include "tensor/portable/vec.h"
#include "tensor/simd_gemv16.h"

namespace lantern::tensor::portable {
namespace {

template <float (*Widen)(uint16_t)>
struct Loader {
  static Vec::V Load(const uint16_t* p) {
    return Vec::Map([p](int i) { return Widen(p[i]); });
  }
  static Vec::V LoadPartial(const uint16_t* p, int n) {
    return Vec::Map([p, n](int i) { return i < n ? Widen(p[i]) : 0.0f; });
  }
};

}  // namespace

void InstallGemv16(Gemv16Kernels& table) {
  simd_kernels::FillGemv16<Vec, Loader<BFloat16BitsToFloat>, Loader<HalfBitsToFloat>>(table);
}

}  // namespace lantern::tensor::portable
