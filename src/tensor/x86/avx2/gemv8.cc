// The AVX2 int8 panel kernel (gemm8.h, dispatch.h's Gemv8Kernels): vpmaddubsw adds pairs of
// unsigned-by-signed byte products into int16 (2 * 127 * 127 < 32768: no saturation), and
// vpmaddwd by ones adds the pairs into the int32 lanes, four inputs of one column per lane (see
// int8_panel.h). Also the kernel of AVX-512 CPUs without VNNI.
#include <immintrin.h>

#include "tensor/dispatch.h"
#include "tensor/x86/avx2/int8_panel.h"

namespace lantern::tensor::avx2 {
namespace {

struct MaddDot {
  static __m256i Add(__m256i sum, __m256i unsigned_bytes, __m256i signed_bytes) {
    const __m256i pairs = _mm256_maddubs_epi16(unsigned_bytes, signed_bytes);
    return _mm256_add_epi32(sum, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1)));
  }
};

}  // namespace

void InstallGemv8(Gemv8Kernels& table) { table.panel = PanelRows<MaddDot>; }

}  // namespace lantern::tensor::avx2
