// The plugin's one exported symbol (model/device_backend.h): everything else in
// liblantern_cuda.so is hidden, lantern's code included, so the binary's copies and the
// plugin's never mix.
#include "model/cuda/cuda_llama.h"

namespace {

const lantern::model::DevicePluginApi kApi = {
    .struct_size = sizeof(lantern::model::DevicePluginApi),
    .build = lantern::model::kDevicePluginBuild,
    .describe = &lantern::model::cuda::DescribeDevice,
    .load = &lantern::model::cuda::LoadCudaLlama,
    .new_random = &lantern::model::cuda::NewRandomCudaLlama,
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const lantern::model::DevicePluginApi*
lantern_cuda_plugin_v1() {
  return &kApi;
}
