// The AVX2 variant of the skinny GEMMs over 16-bit weights: bfloat16 and IEEE half by
// half_vec.h's loaders (see simd_gemv16.h; int8 is gemv8.cc's).
#include <immintrin.h>

#include "tensor/dispatch.h"
#include "tensor/simd_gemv16.h"
#include "tensor/x86/avx2/half_vec.h"
#include "tensor/x86/avx2/vec.h"

namespace lantern::tensor::avx2 {

void InstallGemv16(Gemv16Kernels& table) { simd_kernels::FillGemv16<Vec, BFloat16, Half>(table); }

}  // namespace lantern::tensor::avx2
