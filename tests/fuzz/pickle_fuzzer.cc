// libFuzzer target: the restricted pickle interpreter on arbitrary data.pkl contents.
#include <cstddef>
#include <cstdint>
#include <span>

#include "model/pickle_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  auto parsed = lantern::model::ParseStateDictPickle(bytes, "fuzz/data.pkl");
  if (parsed.ok()) {
    for (const auto& tensor : *parsed) {
      if (tensor.shape.size() != tensor.stride.size()) __builtin_trap();
    }
  }
  return 0;
}
