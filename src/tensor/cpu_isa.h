// Which instruction-set level the CPU kernels run at, chosen once per process from what
// the CPU reports (cpuid/xgetbv on x86-64, hwcaps on aarch64), never from build flags.
//
// One binary carries every level: a portable C++ path that is correct on any CPU, and
// per-ISA variants compiled with their own target flags (src/tensor/x86/, src/tensor/arm/).
// LANTERN_CPU_ISA forces a level (for tests, benchmarks and bug reports); asking for one
// this CPU lacks is an error, never an illegal instruction.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace lantern::tensor {

// Ordered within each architecture: a higher level runs everything a lower one does.
enum class CpuIsa {
  kPortable,  // plain C++ built for the baseline (x86-64-v2 or armv8-a)
  kAvx2,      // x86-64: AVX2 + FMA + F16C
  kAvx512,    // x86-64: AVX-512 F/BW/VL/DQ (+ AVX2 + FMA + F16C)
  kNeon,      // aarch64: Advanced SIMD
};

// "portable", "avx2", "avx512", "neon".
std::string_view CpuIsaName(CpuIsa isa);

// Extensions beyond the levels, for the reduced-precision kernels to pick from.
struct CpuExtensions {
  bool avx512_bf16 = false;  // vdpbf16ps
  bool avx512_vnni = false;  // vpdpbusd on zmm
  bool avx512_fp16 = false;
  bool avx_vnni = false;      // vpdpbusd on ymm (VEX)
  bool neon_dotprod = false;  // sdot/udot
  bool neon_bf16 = false;     // bfdot/bfmmla
};

struct CpuInfo {
  std::string model;                // "AMD EPYC 9R45" (x86 brand string; aarch64: MIDR)
  std::vector<CpuIsa> supported;    // every level this CPU runs, lowest first
  CpuIsa best = CpuIsa::kPortable;  // the highest of them
  CpuExtensions extensions;
  // "avx512_bf16 avx512_vnni ..." (empty when none): what the extensions say, in words.
  std::string ExtensionNames() const;
  bool Supports(CpuIsa isa) const;
};

// What this CPU reports (read once, cached).
const CpuInfo& DetectCpu();

// Parses a LANTERN_CPU_ISA value ("auto" or empty means the best level) and checks it
// against `cpu`: an unknown name or a level the CPU lacks is InvalidArgument, with the
// levels it has.
Result<CpuIsa> ChooseCpuIsa(std::string_view requested, const CpuInfo& cpu);

// The level the kernels use in this process: LANTERN_CPU_ISA when set, else the best.
// The first call fixes it. Call it at start-up to turn a bad LANTERN_CPU_ISA into an error
// message; a kernel that runs first with a bad value ends the process with that message.
Result<CpuIsa> ActiveCpuIsa();

}  // namespace lantern::tensor
