// libFuzzer target: the safetensors header parser on arbitrary file images.
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz_util.h"
#include "model/weights.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  auto parsed = lantern::model::ParseSafetensors(bytes, "fuzz.safetensors");
  if (parsed.ok()) {
    for (const auto& [name, view] : *parsed) lantern::fuzz::Touch(view.data, view.nbytes);
  }
  return 0;
}
