#include "tensor/cpu_isa.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>

#if defined(__x86_64__)
#include <cpuid.h>
#elif defined(__aarch64__)
#include <sys/auxv.h>
#endif

namespace lantern::tensor {
namespace {

#if defined(__x86_64__)

struct CpuidRegs {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
};

CpuidRegs Cpuid(unsigned leaf, unsigned subleaf) {
  CpuidRegs r;
  if (__get_cpuid_max(leaf & 0x80000000u, nullptr) < leaf) return r;
  __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
  return r;
}

bool Bit(unsigned reg, int bit) { return (reg >> bit) & 1u; }

// The register state the OS saves on a context switch (XCR0); a feature whose state the
// OS does not save cannot be used, whatever cpuid says.
uint64_t EnabledXsaveState(const CpuidRegs& leaf1) {
  if (!Bit(leaf1.ecx, 27)) return 0;  // OSXSAVE
  unsigned eax = 0, edx = 0;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}

std::string BrandString() {
  if (__get_cpuid_max(0x80000000u, nullptr) < 0x80000004u) return "unknown x86-64";
  char brand[49] = {};
  for (unsigned i = 0; i < 3; ++i) {
    CpuidRegs r = Cpuid(0x80000002u + i, 0);
    std::memcpy(brand + 16 * i, &r, 16);
  }
  std::string s(brand);
  const size_t first = s.find_first_not_of(' ');
  const size_t last = s.find_last_not_of(' ');
  return first == std::string::npos ? "unknown x86-64" : s.substr(first, last - first + 1);
}

CpuInfo Detect() {
  CpuInfo info;
  info.model = BrandString();
  info.supported.push_back(CpuIsa::kPortable);
  const CpuidRegs leaf1 = Cpuid(1, 0);
  const CpuidRegs leaf7 = Cpuid(7, 0);
  const CpuidRegs leaf7_1 = Cpuid(7, 1);
  const uint64_t xcr0 = EnabledXsaveState(leaf1);
  const bool ymm_state = (xcr0 & 0x6) == 0x6;                 // SSE and AVX registers
  const bool zmm_state = ymm_state && (xcr0 & 0xE0) == 0xE0;  // opmask, ZMM_Hi256, Hi16_ZMM
  const bool avx2 = ymm_state && Bit(leaf1.ecx, 28) && Bit(leaf7.ebx, 5) &&
                    Bit(leaf1.ecx, 12) /* FMA */ && Bit(leaf1.ecx, 29) /* F16C */;
  const bool avx512 = avx2 && zmm_state && Bit(leaf7.ebx, 16) /* F */ &&
                      Bit(leaf7.ebx, 17) /* DQ */ && Bit(leaf7.ebx, 30) /* BW */ &&
                      Bit(leaf7.ebx, 31) /* VL */;
  if (avx2) info.supported.push_back(CpuIsa::kAvx2);
  if (avx512) info.supported.push_back(CpuIsa::kAvx512);
  info.extensions.avx512_bf16 = avx512 && Bit(leaf7_1.eax, 5);
  info.extensions.avx512_vnni = avx512 && Bit(leaf7.ecx, 11);
  info.extensions.avx512_fp16 = avx512 && Bit(leaf7.edx, 23);
  info.extensions.avx_vnni = avx2 && Bit(leaf7_1.eax, 4);
  return info;
}

#elif defined(__aarch64__)

std::string ArmModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, implementer, part;
  while (std::getline(cpuinfo, line)) {
    auto value = [&line] {
      const size_t colon = line.find(':');
      const size_t start =
          colon == std::string::npos ? colon : line.find_first_not_of(" \t", colon + 1);
      return start == std::string::npos ? std::string() : line.substr(start);
    };
    if (line.rfind("model name", 0) == 0) return value();
    if (implementer.empty() && line.rfind("CPU implementer", 0) == 0) implementer = value();
    if (part.empty() && line.rfind("CPU part", 0) == 0) part = value();
  }
  if (implementer.empty()) return "unknown aarch64";
  return "aarch64 implementer " + implementer + " part " + part;
}

CpuInfo Detect() {
  CpuInfo info;
  info.model = ArmModel();
  info.supported.push_back(CpuIsa::kPortable);
  const unsigned long hwcap = getauxval(AT_HWCAP);
  const unsigned long hwcap2 = getauxval(AT_HWCAP2);
  const bool neon = (hwcap & (1ul << 1)) != 0;  // HWCAP_ASIMD
  if (neon) info.supported.push_back(CpuIsa::kNeon);
  info.extensions.neon_dotprod = neon && (hwcap & (1ul << 20)) != 0;  // HWCAP_ASIMDDP
  info.extensions.neon_bf16 = neon && (hwcap2 & (1ul << 14)) != 0;    // HWCAP2_BF16
  return info;
}

#else

CpuInfo Detect() {
  CpuInfo info;
  info.model = "unknown";
  info.supported.push_back(CpuIsa::kPortable);
  return info;
}

#endif

constexpr CpuIsa kAllLevels[] = {CpuIsa::kPortable, CpuIsa::kAvx2, CpuIsa::kAvx512, CpuIsa::kNeon};

std::string SupportedNames(const CpuInfo& cpu) {
  std::string names;
  for (CpuIsa isa : cpu.supported) {
    if (!names.empty()) names += ", ";
    names += CpuIsaName(isa);
  }
  return names;
}

}  // namespace

std::string_view CpuIsaName(CpuIsa isa) {
  switch (isa) {
    case CpuIsa::kPortable:
      return "portable";
    case CpuIsa::kAvx2:
      return "avx2";
    case CpuIsa::kAvx512:
      return "avx512";
    case CpuIsa::kNeon:
      return "neon";
  }
  return "unknown";
}

std::string CpuInfo::ExtensionNames() const {
  std::string names;
  auto add = [&names](bool on, const char* name) {
    if (!on) return;
    if (!names.empty()) names += ' ';
    names += name;
  };
  add(extensions.avx512_bf16, "avx512_bf16");
  add(extensions.avx512_vnni, "avx512_vnni");
  add(extensions.avx512_fp16, "avx512_fp16");
  add(extensions.avx_vnni, "avx_vnni");
  add(extensions.neon_dotprod, "dotprod");
  add(extensions.neon_bf16, "bf16");
  return names;
}

bool CpuInfo::Supports(CpuIsa isa) const {
  for (CpuIsa s : supported) {
    if (s == isa) return true;
  }
  return false;
}

const CpuInfo& DetectCpu() {
  static const CpuInfo info = [] {
    CpuInfo detected = Detect();
    detected.best = detected.supported.back();
    return detected;
  }();
  return info;
}

Result<CpuIsa> ChooseCpuIsa(std::string_view requested, const CpuInfo& cpu) {
  if (requested.empty() || requested == "auto" || requested == "native") return cpu.best;
  for (CpuIsa isa : kAllLevels) {
    if (requested != CpuIsaName(isa)) continue;
    if (!cpu.Supports(isa)) {
      std::string message = "LANTERN_CPU_ISA=";
      message.append(requested).append(": this CPU (").append(cpu.model);
      message.append(") does not support ").append(requested).append("; it supports ");
      return InvalidArgument(message.append(SupportedNames(cpu)));
    }
    return isa;
  }
  std::string message = "LANTERN_CPU_ISA=";
  message.append(requested).append(
      ": unknown level (expected auto, portable, avx2, avx512 or neon; this CPU supports ");
  return InvalidArgument(message.append(SupportedNames(cpu)).append(")"));
}

Result<CpuIsa> ActiveCpuIsa() {
  static const Result<CpuIsa> chosen = [] {
    const char* env = std::getenv("LANTERN_CPU_ISA");
    return ChooseCpuIsa(env == nullptr ? "" : env, DetectCpu());
  }();
  return chosen;
}

}  // namespace lantern::tensor
