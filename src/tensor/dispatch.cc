#include "tensor/dispatch.h"

#include <unistd.h>

#include <cstdio>

namespace lantern::tensor {

KernelTables KernelsFor(CpuIsa isa) {
  KernelTables tables;
  tables.isa = isa;
  portable::InstallElementwise(tables.elementwise);
  portable::InstallGemv(tables.gemv);
  portable::InstallGemv16(tables.gemv16);
  portable::InstallGemv8(tables.gemv8);
  portable::InstallAttention(tables.attention);
#if defined(__x86_64__)
  if (isa == CpuIsa::kAvx2 || isa == CpuIsa::kAvx512) {
    avx2::InstallElementwise(tables.elementwise);
    avx2::InstallGemv(tables.gemv);
    avx2::InstallGemv16(tables.gemv16);
    avx2::InstallGemv8(tables.gemv8);
    if (DetectCpu().extensions.avx_vnni) avx_vnni::InstallGemv8(tables.gemv8);
    avx2::InstallAttention(tables.attention);
  }
  if (isa == CpuIsa::kAvx512) {
    avx512::InstallElementwise(tables.elementwise);
    avx512::InstallGemv(tables.gemv);
    avx512::InstallGemv16(tables.gemv16);
    if (DetectCpu().extensions.avx512_bf16) avx512_bf16::InstallGemv16(tables.gemv16);
    avx512::InstallAttention(tables.attention);
    if (DetectCpu().extensions.avx512_vnni) avx512_vnni::InstallGemv8(tables.gemv8);
  }
#elif defined(__aarch64__)
  if (isa == CpuIsa::kNeon) {
    neon::InstallElementwise(tables.elementwise);
    neon::InstallGemv(tables.gemv);
    neon::InstallGemv16(tables.gemv16);
    if (DetectCpu().extensions.neon_dotprod) neon_dotprod::InstallGemv8(tables.gemv8);
    neon::InstallAttention(tables.attention);
  }
#endif
  return tables;
}

const KernelTables& Kernels() {
  static const KernelTables tables = [] {
    const Result<CpuIsa> isa = ActiveCpuIsa();
    if (!isa.ok()) {
      // No error path leads out of a kernel; serve, generate and bench check first.
      std::fprintf(stderr, "lantern: %s\n", isa.status().message().c_str());
      std::fflush(stderr);
      _exit(2);
    }
    return KernelsFor(*isa);
  }();
  return tables;
}

}  // namespace lantern::tensor
