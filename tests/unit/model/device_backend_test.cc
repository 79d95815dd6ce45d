// --device cuda where the plugin cannot be had: one clear error from LoadModel and
// DescribeCudaDevice, never a crash (model/device_backend.h). The GPU itself is tested in
// tests/unit/model/cuda/.
#include "model/device_backend.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "loader_test_util.h"
#include "model/llama.h"
#include "model/model.h"

namespace lantern::model {
namespace {

TEST(DeviceBackend, AMissingPluginIsOneClearError) {
  // Set before the first use: the plugin is opened once per process.
  ::setenv("LANTERN_CUDA_PLUGIN", "/nonexistent/liblantern_cuda.so", 1);
  EXPECT_EQ(CudaPluginPath(), "/nonexistent/liblantern_cuda.so");
  auto device = DescribeCudaDevice(0);
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().message(),
            "--device cuda: the CUDA plugin /nonexistent/liblantern_cuda.so is missing (build "
            "lantern where the CUDA toolkit is installed, or point LANTERN_CUDA_PLUGIN at "
            "liblantern_cuda.so)");
  // LoadModel fails the same way before it reads anything (the directory does not exist).
  auto model = LoadModel("/nonexistent/model", {.device = Device{Device::Kind::kCuda, 0}});
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().message(), device.status().message());
  auto random =
      NewRandomLlamaModel(SmolLm135mShapeConfig(), 1, {.device = Device{Device::Kind::kCuda, 1}});
  ASSERT_FALSE(random.ok());
  EXPECT_EQ(random.status().message(), device.status().message());
}

TEST(DeviceBackend, TheCpuModelRefusesADeviceCache) {
  ModelConfig tiny = SmolLm135mShapeConfig();
  tiny.num_hidden_layers = 1;
  tiny.vocab_size = 100;
  tiny.hidden_size = 64;
  tiny.num_attention_heads = 4;
  tiny.num_key_value_heads = 2;
  tiny.head_dim = 16;
  tiny.intermediate_size = 128;
  auto model = NewRandomLlamaModel(tiny, 1, {.num_threads = 1});
  ASSERT_TRUE(model.ok());
  // A cache claiming to live on a GPU (storage never touched: the check comes first).
  const ModelConfig& c = (*model)->config();
  KvCache kv(c.num_hidden_layers, 1, 16, c.num_key_value_heads, c.head_dim, DType::kBF16,
             Device{Device::Kind::kCuda, 0}, nullptr, nullptr);
  EXPECT_TRUE(kv.device().is_cuda());
  const std::vector<int32_t> tokens = {1}, table = {0};
  std::vector<float> logits;
  Status status = (*model)->Forward({{{tokens, 0, table}}}, kv, &logits);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "KV cache on cuda:0, the model on cpu");
  EXPECT_EQ((*model)->device(), Device{});
  EXPECT_FALSE((*model)->LastForwardDeviceSeconds().has_value());
}

}  // namespace
}  // namespace lantern::model
