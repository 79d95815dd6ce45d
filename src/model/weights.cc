// WeightStore: the tensors of a checkpoint by name, and how a model directory's weight
// files are found (single file or sharded through an index).
#include "model/weights.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <set>

#include "model/loader_util.h"

namespace lantern::model {

using internal::Quote;

size_t DTypeSize(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return 4;
    case DType::kF16:
    case DType::kBF16:
      return 2;
  }
  return 0;
}

const char* DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return "F32";
    case DType::kF16:
      return "F16";
    case DType::kBF16:
      return "BF16";
  }
  return "?";
}

int64_t WeightView::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;  // the readers check this cannot overflow
  return n;
}

const WeightView* WeightStore::Find(std::string_view name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

std::vector<std::string> WeightStore::Names() const {
  std::vector<std::string> names;
  names.reserve(tensors_.size());
  for (const auto& [name, view] : tensors_) names.push_back(name);
  return names;
}

uint64_t WeightStore::total_bytes() const {
  uint64_t total = 0;
  for (const auto& [name, view] : tensors_) total += view.nbytes;
  return total;
}

void WeightStore::AddTensor(std::string name, WeightView view) {
  const size_t align = DTypeSize(view.dtype);
  if (view.nbytes > 0 && reinterpret_cast<uintptr_t>(view.data) % align != 0) {
    // A file whose header length is not a multiple of the element size puts tensors at
    // odd addresses; kernels may assume natural alignment, so copy those few once.
    auto copy = std::make_unique<std::byte[]>(view.nbytes);
    std::memcpy(copy.get(), view.data, view.nbytes);
    view.data = copy.get();
    owned_.push_back(std::move(copy));
  }
  tensors_.insert_or_assign(std::move(name), std::move(view));
}

Status WeightStore::Merge(WeightStore&& other) {
  for (const auto& [name, view] : other.tensors_) {
    if (tensors_.count(name)) {
      return InvalidArgument("duplicate tensor " + Quote(name) + " (already loaded)");
    }
  }
  tensors_.merge(other.tensors_);
  for (auto& file : other.files_) files_.push_back(std::move(file));
  for (auto& buffer : other.owned_) owned_.push_back(std::move(buffer));
  if (format_.empty()) format_ = other.format_;
  other = WeightStore();
  return Status::Ok();
}

Result<WeightStore> WeightStore::OpenIndex(const std::filesystem::path& index_file,
                                           bool safetensors) {
  const std::string source = index_file.string();
  LANTERN_ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::Open(index_file));
  std::string_view text(reinterpret_cast<const char*>(mapped.data()), mapped.size());
  LANTERN_ASSIGN_OR_RETURN(nlohmann::json index, internal::ParseJsonStrict(text, source, 16));
  if (!index.is_object()) return InvalidArgument(source + ": expected a JSON object");
  auto weight_map = index.find("weight_map");
  if (weight_map == index.end()) return InvalidArgument(source + ": missing field \"weight_map\"");
  if (!weight_map->is_object() || weight_map->empty()) {
    return InvalidArgument(source + ": \"weight_map\" must be a non-empty object");
  }
  // Shard file -> the tensor names the index puts in it.
  std::map<std::string, std::vector<std::string>> shards;
  for (const auto& [name, file] : weight_map->items()) {
    if (!file.is_string()) {
      return InvalidArgument(source + ": \"weight_map\" entry " + Quote(name) +
                             " must name a file (a string), got " + file.type_name());
    }
    const std::string shard = file.get<std::string>();
    // Shards live beside the index; refuse paths that would leave the model directory.
    if (shard.empty() || shard == "." || shard == ".." ||
        shard.find_first_of("/\\") != std::string::npos || shard.find('\0') != std::string::npos) {
      return InvalidArgument(source + ": \"weight_map\" entry " + Quote(name) + " names shard " +
                             Quote(shard) +
                             ", which is not a plain file name in the model directory");
    }
    shards[shard].push_back(name);
  }
  WeightStore store;
  for (const auto& [shard, names] : shards) {
    const std::filesystem::path path = index_file.parent_path() / shard;
    LANTERN_ASSIGN_OR_RETURN(WeightStore part,
                             safetensors ? OpenSafetensors(path) : OpenPytorchBin(path));
    for (const std::string& name : names) {
      if (part.Find(name) == nullptr) {
        return InvalidArgument(source + ": lists tensor " + Quote(name) + " in " + Quote(shard) +
                               ", but that shard does not contain it");
      }
    }
    Status merged = store.Merge(std::move(part));
    if (!merged.ok()) return InvalidArgument(path.string() + ": " + merged.message());
  }
  return store;
}

Result<WeightStore> WeightStore::Open(const std::filesystem::path& model_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(model_dir, ec)) {
    return NotFound(model_dir.string() + ": not a model directory");
  }
  // The order transformers' from_pretrained looks in.
  if (fs::exists(model_dir / "model.safetensors", ec)) {
    return OpenSafetensors(model_dir / "model.safetensors");
  }
  if (fs::exists(model_dir / "model.safetensors.index.json", ec)) {
    return OpenIndex(model_dir / "model.safetensors.index.json", /*safetensors=*/true);
  }
  if (fs::exists(model_dir / "pytorch_model.bin.index.json", ec)) {
    return OpenIndex(model_dir / "pytorch_model.bin.index.json", /*safetensors=*/false);
  }
  if (fs::exists(model_dir / "pytorch_model.bin", ec)) {
    return OpenPytorchBin(model_dir / "pytorch_model.bin");
  }
  return NotFound(model_dir.string() +
                  ": no weights found (expected model.safetensors, "
                  "model.safetensors.index.json, pytorch_model.bin or "
                  "pytorch_model.bin.index.json)");
}

void WeightStore::ReleasePages(const WeightView& view) const {
  const auto begin = reinterpret_cast<uintptr_t>(view.data);
  const uintptr_t end = begin + view.nbytes;
  for (const auto& file : files_) {
    const auto mapped = reinterpret_cast<uintptr_t>(file->data());
    if (begin < mapped || end > mapped + file->size()) continue;
    // Whole pages inside the tensor only: its neighbours may not have been read yet.
    const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
    const uintptr_t first = (begin + page - 1) / page * page, last = end / page * page;
    if (first < last) madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
    return;
  }
}

}  // namespace lantern::model
