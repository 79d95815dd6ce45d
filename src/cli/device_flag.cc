#include "cli/device_flag.h"

#include "model/device_backend.h"

namespace lantern::cli {

void AddDeviceFlags(CLI::App& app, DeviceFlags& flags) {
  app.add_option("--device", flags.device,
                 "cpu, or cuda (cuda:N) on an NVIDIA GPU through liblantern_cuda.so (Llama "
                 "family)");
  app.add_option("--gpu-memory-utilization", flags.gpu_memory_utilization,
                 "--device cuda: the fraction of the GPU's memory to use")
      ->check(CLI::Range(0.01, 1.0));
  app.add_flag("--enforce-eager", flags.enforce_eager, "--device cuda: no CUDA graphs");
}

Result<model::Device> ResolveDevice(const DeviceFlags& flags, std::string* description) {
  LANTERN_ASSIGN_OR_RETURN(model::Device device, model::ParseDevice(flags.device));
  *description = device.ToString();
  if (!device.is_cuda()) return device;
  LANTERN_ASSIGN_OR_RETURN(model::DeviceDescription gpu, model::DescribeCudaDevice(device.index));
  *description += " (" + gpu.ToString() + ")";
  return device;
}

void ApplyDeviceFlags(const DeviceFlags& flags, const model::Device& device,
                      model::LoadOptions* options) {
  options->device = device;
  options->gpu_memory_utilization = flags.gpu_memory_utilization;
  options->enforce_eager = flags.enforce_eager;
}

}  // namespace lantern::cli
