// libFuzzer target: config.json parsing on arbitrary text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "model/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto config = lantern::model::ParseModelConfig(text, "fuzz/config.json");
  if (config.ok() && (config->hidden_size <= 0 || config->head_dim <= 0)) __builtin_trap();
  return 0;
}
