// The NEON variant of the skinny GEMMs over 16-bit weights: half_vec.h's loaders, all in base
// armv8-a (see simd_gemv16.h). int8 products take sdot (arm/neon_dotprod/) or the portable kernel.
#include <arm_neon.h>

#include "tensor/arm/neon/half_vec.h"
#include "tensor/arm/neon/vec.h"
#include "tensor/dispatch.h"
#include "tensor/simd_gemv16.h"

namespace lantern::tensor::neon {

void InstallGemv16(Gemv16Kernels& table) { simd_kernels::FillGemv16<Vec, BFloat16, Half>(table); }

}  // namespace lantern::tensor::neon
