#include "model/device_backend.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <system_error>

namespace lantern::model {
namespace {

// Whether this tree was configured with the CUDA backend (CMake defines it on lantern_model).
#ifdef LANTERN_HAVE_CUDA
constexpr bool kBuiltWithCuda = true;
#else
constexpr bool kBuiltWithCuda = false;
#endif

Result<const DevicePluginApi*> Open() {
  const std::filesystem::path path = CudaPluginPath();
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    const char* chosen = std::getenv("LANTERN_CUDA_PLUGIN");
    if (!kBuiltWithCuda && (chosen == nullptr || *chosen == '\0')) {
      return Unimplemented(
          "--device cuda: lantern was built without CUDA (nvcc not found at "
          "build time, or -DLANTERN_CUDA=OFF; rebuild with the CUDA toolkit "
          "installed)");
    }
    return NotFound("--device cuda: the CUDA plugin " + path.string() +
                    " is missing (build lantern where the CUDA toolkit is installed, or point "
                    "LANTERN_CUDA_PLUGIN at liblantern_cuda.so)");
  }
  // RTLD_LOCAL: the plugin's own copies of lantern's code stay its own.
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    return FailedPrecondition("--device cuda: cannot load " + path.string() + ": " +
                              (why ? why : "unknown error") +
                              " (are the CUDA runtime libraries installed?)");
  }
  using EntryPoint = const DevicePluginApi* (*)();
  auto entry = reinterpret_cast<EntryPoint>(::dlsym(handle, kDevicePluginEntryPoint));
  if (entry == nullptr) {
    return FailedPrecondition("--device cuda: " + path.string() + " has no entry point " +
                              kDevicePluginEntryPoint + " (a plugin of another lantern version)");
  }
  const DevicePluginApi* api = entry();
  if (api == nullptr || api->struct_size != sizeof(DevicePluginApi) ||
      std::string(api->build) != kDevicePluginBuild) {
    return FailedPrecondition("--device cuda: " + path.string() +
                              " was built from another lantern version (expected " +
                              kDevicePluginBuild + "); rebuild it with this binary");
  }
  return api;  // the handle stays open for the life of the process
}

}  // namespace

std::string DeviceDescription::ToString() const {
  char text[256];
  std::snprintf(text, sizeof(text), "%s (sm_%d%d, %.1f GiB)", name.c_str(), sm_major, sm_minor,
                static_cast<double>(total_bytes) / (1024.0 * 1024 * 1024));
  return text;
}

std::filesystem::path CudaPluginPath() {
  if (const char* path = std::getenv("LANTERN_CUDA_PLUGIN"); path != nullptr && *path) {
    return path;
  }
  std::error_code error;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", error);
  return (error ? std::filesystem::path(".") : exe.parent_path()) / "liblantern_cuda.so";
}

Result<const DevicePluginApi*> OpenCudaPlugin() {
  static const Result<const DevicePluginApi*> opened = Open();  // once, thread-safe
  return opened;
}

Result<DeviceDescription> DescribeCudaDevice(int index) {
  LANTERN_ASSIGN_OR_RETURN(const DevicePluginApi* api, OpenCudaPlugin());
  return api->describe(index);
}

Result<std::unique_ptr<Model>> LoadCudaModel(const std::filesystem::path& model_dir,
                                             const LoadOptions& options) {
  LANTERN_ASSIGN_OR_RETURN(const DevicePluginApi* api, OpenCudaPlugin());
  return api->load(model_dir, options);
}

Result<std::unique_ptr<Model>> NewRandomCudaModel(const ModelConfig& config, uint64_t seed,
                                                  const LoadOptions& options) {
  LANTERN_ASSIGN_OR_RETURN(const DevicePluginApi* api, OpenCudaPlugin());
  return api->new_random(config, seed, options);
}

}  // namespace lantern::model
