// --device, --gpu-memory-utilization and --enforce-eager for the commands that load a model
// (generate, bench forward, bench throughput; serve has its own, with its start-up trace).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "base/status.h"
#include "model/device.h"
#include "model/model.h"

namespace lantern::cli {

struct DeviceFlags {
  std::string device = "cpu";
  double gpu_memory_utilization = 0.9;
  bool enforce_eager = false;
};

void AddDeviceFlags(CLI::App& app, DeviceFlags& flags);

// The device asked for; for a CUDA device the plugin is opened and the GPU checked first,
// so that a machine without one fails with one line ("no CUDA device: ...") before any
// weights are read. `description` gets "cpu" or "cuda:0 (NVIDIA H100 ...)".
Result<model::Device> ResolveDevice(const DeviceFlags& flags, std::string* description);

// Copies the flags into LoadOptions.
void ApplyDeviceFlags(const DeviceFlags& flags, const model::Device& device,
                      model::LoadOptions* options);

}  // namespace lantern::cli
