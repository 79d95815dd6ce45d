// The CUDA backend as a plugin (issue 20): `liblantern_cuda.so`, built beside the `lantern`
// binary when CMake finds nvcc, holds the CUDA model and links libcudart/libcublasLt; the
// binary dlopens it only for --device cuda, so a CPU-only machine never needs the CUDA
// libraries. The plugin is found beside /proc/self/exe, or at $LANTERN_CUDA_PLUGIN.
//
// The plugin and the binary are built from the same tree by the same compiler, so they
// exchange C++ objects (Model, Status, LoadOptions); the versioned entry point and the
// version string of the table below guard against a plugin of another build.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "base/status.h"
#include "model/config.h"
#include "model/model.h"

namespace lantern::model {

struct DeviceDescription {
  std::string name;  // "NVIDIA H100 80GB HBM3"
  int sm_major = 0, sm_minor = 0;
  size_t total_bytes = 0, free_bytes = 0;
  std::string ToString() const;  // "NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)"
};

// What the plugin exports: `extern "C" const DevicePluginApi* lantern_cuda_plugin_v1()`.
struct DevicePluginApi {
  size_t struct_size = sizeof(DevicePluginApi);
  const char* build = "";  // kDevicePluginBuild of the plugin's tree
  // The device `index` exists and can be used: its description; "no CUDA device: <reason>"
  // otherwise.
  Result<DeviceDescription> (*describe)(int index) = nullptr;
  Result<std::unique_ptr<Model>> (*load)(const std::filesystem::path& model_dir,
                                         const LoadOptions& options) = nullptr;
  Result<std::unique_ptr<Model>> (*new_random)(const ModelConfig& config, uint64_t seed,
                                               const LoadOptions& options) = nullptr;
};
inline constexpr const char kDevicePluginEntryPoint[] = "lantern_cuda_plugin_v1";
// Bumped with any change to DevicePluginApi, Model, KvCache, LoadOptions or Status.
inline constexpr const char kDevicePluginBuild[] = "lantern-cuda-plugin-1";

// Loads the plugin (once per process; it stays loaded) and returns its table, or a clear
// error: "lantern was built without CUDA (nvcc not found at build time)", a plugin that
// cannot be loaded (the dlerror: a missing libcudart, ...), or one of another build.
Result<const DevicePluginApi*> OpenCudaPlugin();

// Opens the plugin and checks the device: its description, or "no CUDA device: <reason>".
Result<DeviceDescription> DescribeCudaDevice(int index);

// LoadModel / NewRandomLlamaModel for a CUDA device (LoadOptions::device).
Result<std::unique_ptr<Model>> LoadCudaModel(const std::filesystem::path& model_dir,
                                             const LoadOptions& options);
Result<std::unique_ptr<Model>> NewRandomCudaModel(const ModelConfig& config, uint64_t seed,
                                                  const LoadOptions& options);

// Where the plugin is looked for: $LANTERN_CUDA_PLUGIN, else liblantern_cuda.so in the
// directory of /proc/self/exe.
std::filesystem::path CudaPluginPath();

}  // namespace lantern::model
