// The CPU kernel level of this run, as the commands that compute report it: resolved from
// LANTERN_CPU_ISA (or the best the CPU has) before any kernel runs, so that a level the CPU
// lacks is an error message rather than a crash.
#pragma once

#include <string>

#include "base/status.h"

namespace lantern::cli {

struct CpuChoice {
  std::string isa;         // "avx512"
  std::string model;       // "AMD EPYC 9R45"
  std::string extensions;  // "avx512_bf16 avx512_vnni" (may be empty)
  std::string supported;   // "portable avx2 avx512"
  // "cpu: AMD EPYC 9R45, kernels avx512 (of portable avx2 avx512; extensions ...)".
  std::string Describe() const;
};

Result<CpuChoice> ResolveCpuChoice();

}  // namespace lantern::cli
