// Weights of a Hugging Face checkpoint, read without copying where the format allows:
// model.safetensors, sharded safetensors (model.safetensors.index.json), or PyTorch's
// pytorch_model.bin (a zip archive holding a pickled state dict; only the pickle opcodes
// a plain tensor state dict uses are interpreted, nothing is ever executed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/mapped_file.h"
#include "base/status.h"

namespace lantern::model {

enum class DType : uint8_t { kF32, kF16, kBF16 };

size_t DTypeSize(DType dtype);
const char* DTypeName(DType dtype);  // "F32", "F16", "BF16"

// One tensor of a checkpoint: a contiguous, row-major view into mapped memory. `data` is
// aligned to DTypeSize(dtype) (a tensor stored misaligned in its file is copied once).
struct WeightView {
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  const std::byte* data = nullptr;
  size_t nbytes = 0;

  int64_t numel() const;
};

class WeightStore {
 public:
  // Opens the weights of a model directory, looking where transformers does: model.safetensors,
  // else model.safetensors.index.json, else pytorch_model.bin, else
  // pytorch_model.bin.index.json. Errors name the file and the problem.
  static Result<WeightStore> Open(const std::filesystem::path& model_dir);
  // Opens one file of a given format (used by Open, tests and fuzzers).
  static Result<WeightStore> OpenSafetensors(const std::filesystem::path& file);
  static Result<WeightStore> OpenPytorchBin(const std::filesystem::path& file);

  const WeightView* Find(std::string_view name) const;
  std::vector<std::string> Names() const;
  size_t size() const { return tensors_.size(); }
  uint64_t total_bytes() const;
  const std::string& format() const { return format_; }  // "safetensors" or "pytorch"

  // Drops this process's pages of a tensor read from a mapped file, once its values have been
  // copied into the layout the kernels read: the served copy is then the only one resident
  // (a later read maps them in again from the page cache). No-op for tensors held in memory.
  void ReleasePages(const WeightView& view) const;

  // Adds the tensors of another store (shards); fails on a duplicate name.
  Status Merge(WeightStore&& other);

 private:
  // Opens a sharded checkpoint from its index (model.safetensors.index.json or
  // pytorch_model.bin.index.json): each shard file once, every indexed name present.
  static Result<WeightStore> OpenIndex(const std::filesystem::path& index_file, bool safetensors);
  // Adds a tensor, copying its bytes into owned memory if `view.data` is misaligned.
  void AddTensor(std::string name, WeightView view);

  std::map<std::string, WeightView, std::less<>> tensors_;
  std::vector<std::shared_ptr<MappedFile>> files_;   // keep the mappings alive
  std::vector<std::unique_ptr<std::byte[]>> owned_;  // copies of misaligned tensors
  std::string format_;
};

// Header parsers, exposed for tests and fuzzers. They never read past `bytes`.
// Parses a whole safetensors file image (8-byte length, JSON header, data) and returns
// the views into it.
Result<std::map<std::string, WeightView, std::less<>>> ParseSafetensors(
    std::span<const std::byte> bytes, const std::string& source);

}  // namespace lantern::model
