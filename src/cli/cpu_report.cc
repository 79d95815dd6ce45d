#include "cli/cpu_report.h"

#include "tensor/cpu_isa.h"

namespace lantern::cli {

std::string CpuChoice::Describe() const {
  std::string text = "cpu: " + model + ", kernels " + isa + " (levels: " + supported;
  if (!extensions.empty()) text += "; extensions: " + extensions;
  return text + "; LANTERN_CPU_ISA forces a level)";
}

Result<CpuChoice> ResolveCpuChoice() {
  const auto isa = tensor::ActiveCpuIsa();
  if (!isa.ok()) return isa.status();
  const tensor::CpuInfo& cpu = tensor::DetectCpu();
  CpuChoice choice;
  choice.isa = tensor::CpuIsaName(*isa);
  choice.model = cpu.model;
  choice.extensions = cpu.ExtensionNames();
  for (tensor::CpuIsa level : cpu.supported) {
    if (!choice.supported.empty()) choice.supported += ' ';
    choice.supported += tensor::CpuIsaName(level);
  }
  return choice;
}

}  // namespace lantern::cli
