// libFuzzer target: the zip reader on arbitrary archives; every entry it locates must lie
// inside the input.
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz_util.h"
#include "model/zip_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  auto zip = lantern::model::ZipReader::Parse(bytes, "fuzz.zip");
  if (zip.ok()) {
    for (const auto& entry : zip->entries()) {
      lantern::fuzz::Touch(entry.stored.data(), entry.stored.size());
      auto stored = zip->Data(entry.name);
      if (stored.ok()) lantern::fuzz::Touch(stored->data(), stored->size());
    }
  }
  return 0;
}
