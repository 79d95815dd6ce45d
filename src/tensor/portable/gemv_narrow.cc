// The portable variant of the skinny GEMMs over 16-bit weights: scalar widening in
// fixed-length loops the compiler vectorizes (see simd_gemv16.h; int8 is gemv8.cc's).
#include "tensor/dispatch.h"
#include "tensor/portable/half_vec.h"
#include "tensor/portable/vec.h"
#include "tensor/simd_gemv16.h"

namespace lantern::tensor::portable {

void InstallGemv16(Gemv16Kernels& table) { simd_kernels::FillGemv16<Vec, BFloat16, Half>(table); }

}  // namespace lantern::tensor::portable
