// The portable variant of the skinny GEMMs over narrow weights (16-bit floats, int8): scalar
// widening in fixed-length loops the compiler vectorizes (see simd_gemv16.h, simd_gemv8.h).
#include "tensor/dispatch.h"
#include "tensor/portable/half_vec.h"
#include "tensor/portable/vec.h"
#include "tensor/simd_gemv16.h"
#include "tensor/simd_gemv8.h"

namespace lantern::tensor::portable {
namespace {

struct Int8 {
  static Vec::V Load(const int8_t* p) {
    return Vec::Map([p](int i) { return static_cast<float>(p[i]); });
  }
  static Vec::V LoadPartial(const int8_t* p, int n) {
    return Vec::Map([p, n](int i) { return i < n ? static_cast<float>(p[i]) : 0.0f; });
  }
};

}  // namespace

void InstallGemv8(Gemv8Kernels& table) { table.columns = simd_kernels::Gemv8Columns<Vec, Int8>; }

void InstallGemv16(Gemv16Kernels& table) { simd_kernels::FillGemv16<Vec, BFloat16, Half>(table); }

}  // namespace lantern::tensor::portable
