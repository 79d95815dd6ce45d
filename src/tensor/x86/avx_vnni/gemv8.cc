// The AVX-VNNI int8 panel kernel (gemm8.h, dispatch.h's Gemv8Kernels), for AVX2 CPUs with
// the VEX-coded vpdpbusd (Alder Lake and later, Zen 5): four unsigned-by-signed byte products
// into each int32 lane in one instruction, where AVX2 takes three (see int8_panel.h).
#include <immintrin.h>

#include "tensor/dispatch.h"
#include "tensor/x86/avx2/int8_panel.h"

namespace lantern::tensor::avx_vnni {
namespace {

struct VnniDot {
  static __m256i Add(__m256i sum, __m256i unsigned_bytes, __m256i signed_bytes) {
    return _mm256_dpbusd_avx_epi32(sum, unsigned_bytes, signed_bytes);
  }
};

}  // namespace

void InstallGemv8(Gemv8Kernels& table) { table.panel = avx2::PanelRows<VnniDot>; }

}  // namespace lantern::tensor::avx_vnni
