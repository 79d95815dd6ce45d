// libFuzzer target: the whole pytorch_model.bin path (zip, pickle, tensor views) on
// arbitrary files. The reader maps files, so each input is written to a private file.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "fuzz_util.h"
#include "model/weights.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                            ("lantern-fuzz-" + std::to_string(::getpid()) + ".bin");
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    if (size > 0) std::fwrite(data, 1, size, f);
    std::fclose(f);
  } else {
    return 0;
  }
  auto store = lantern::model::WeightStore::OpenPytorchBin(path);
  if (store.ok()) {
    for (const auto& name : store->Names()) {
      const auto* view = store->Find(name);
      lantern::fuzz::Touch(view->data, view->nbytes);
    }
  }
  std::filesystem::remove(path);
  return 0;
}
