// PyTorch's checkpoint format since 1.6 (torch.save's default): a zip archive whose entries
// sit under one top folder (the file's stem when saved, or "archive"): data.pkl, the
// pickled object, and data/<key>, the raw bytes of each storage it refers to. We map the
// archive, interpret data.pkl with the restricted reader and view tensors in place.
#include <string>

#include "model/loader_util.h"
#include "model/pickle_reader.h"
#include "model/weights.h"
#include "model/zip_reader.h"

namespace lantern::model {
namespace {

using internal::CheckedAdd;
using internal::CheckedMul;
using internal::Quote;

struct StorageDType {
  const char* storage_type;
  DType dtype;
};
constexpr StorageDType kSupportedStorages[] = {
    {"FloatStorage", DType::kF32},
    {"HalfStorage", DType::kF16},
    {"BFloat16Storage", DType::kBF16},
};

// Finds the one "<top>/data.pkl" of the archive and returns "<top>/".
Result<std::string> FindArchivePrefix(const ZipReader& zip, const std::string& source) {
  std::string prefix;
  for (const auto& entry : zip.entries()) {
    const std::string& name = entry.name;
    constexpr std::string_view kPickle = "/data.pkl";
    if (name.size() > kPickle.size() && name.ends_with(kPickle) &&
        name.find('/') == name.size() - kPickle.size()) {
      if (!prefix.empty()) {
        return DataLoss(source + ": archive holds more than one data.pkl (" + Quote(prefix) +
                        " and " + Quote(name) + ")");
      }
      prefix = name.substr(0, name.size() - kPickle.size() + 1);
    }
  }
  if (prefix.empty()) {
    return DataLoss(source + ": zip archive has no <folder>/data.pkl; not a torch.save checkpoint");
  }
  return prefix;
}

Result<WeightView> ViewTensor(const PickledTensor& t, const ZipReader& zip,
                              const std::string& prefix, const std::string& source) {
  const std::string where = source + ": tensor " + Quote(t.name);
  const StorageDType* storage = nullptr;
  for (const auto& s : kSupportedStorages) {
    if (t.storage_type == s.storage_type) storage = &s;
  }
  if (storage == nullptr) {
    return Unimplemented(where + " has unsupported dtype torch." + t.storage_type +
                         " (Lantern reads float32, float16 and bfloat16 weights)");
  }
  const uint64_t elem = DTypeSize(storage->dtype);
  auto bytes = zip.Data(prefix + "data/" + t.storage_key);
  if (!bytes.ok()) return DataLoss(where + ": storage " + bytes.status().message());
  uint64_t storage_bytes;
  if (!CheckedMul(t.storage_numel, elem, &storage_bytes) || storage_bytes > bytes->size()) {
    return DataLoss(where + ": storage " + Quote(t.storage_key) + " claims " +
                    std::to_string(t.storage_numel) + " elements but its entry holds " +
                    std::to_string(bytes->size()) + " bytes");
  }
  // We hand out row-major views: require the strides of a contiguous tensor (a dimension
  // of size 1 may have any stride, as torch itself allows).
  uint64_t numel = 1;
  for (size_t i = t.shape.size(); i-- > 0;) {
    if (t.shape[i] != 1 && static_cast<uint64_t>(t.stride[i]) != numel) {
      return Unimplemented(where +
                           " is not contiguous (non-row-major strides); save it with "
                           ".contiguous()");
    }
    if (!CheckedMul(numel, static_cast<uint64_t>(t.shape[i]), &numel)) {
      return DataLoss(where + ": shape overflows");
    }
  }
  uint64_t end;
  if (numel > static_cast<uint64_t>(INT64_MAX) ||
      !CheckedAdd(static_cast<uint64_t>(t.storage_offset), numel, &end) || end > t.storage_numel) {
    return DataLoss(where + ": elements [" + std::to_string(t.storage_offset) + ", +" +
                    std::to_string(numel) + ") lie outside its storage of " +
                    std::to_string(t.storage_numel) + " elements");
  }
  WeightView view;
  view.dtype = storage->dtype;
  view.shape = t.shape;
  view.data = bytes->data() + static_cast<uint64_t>(t.storage_offset) * elem;
  view.nbytes = numel * elem;
  return view;
}

}  // namespace

Result<WeightStore> WeightStore::OpenPytorchBin(const std::filesystem::path& file) {
  const std::string source = file.string();
  LANTERN_ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::Open(file));
  auto shared = std::make_shared<MappedFile>(std::move(mapped));
  const auto bytes = shared->bytes();
  if (!bytes.empty() && static_cast<uint8_t>(bytes[0]) == 0x80) {
    return Unimplemented(source +
                         ": legacy (pre-1.6) torch serialization format; re-save it "
                         "with a current torch.save or convert it to safetensors");
  }
  LANTERN_ASSIGN_OR_RETURN(ZipReader zip, ZipReader::Parse(bytes, source));
  LANTERN_ASSIGN_OR_RETURN(std::string prefix, FindArchivePrefix(zip, source));
  if (const auto* order = zip.Find(prefix + "byteorder")) {
    std::string_view value(reinterpret_cast<const char*>(order->stored.data()),
                           order->stored.size());
    if (order->method != 0 || value != "little") {
      return Unimplemented(source + ": tensors are stored big-endian; only little-endian is read");
    }
  }
  const std::string pickle_name = prefix + "data.pkl";
  LANTERN_ASSIGN_OR_RETURN(auto pickle, zip.Data(pickle_name));
  LANTERN_ASSIGN_OR_RETURN(auto tensors, ParseStateDictPickle(pickle, source + ":" + pickle_name));
  WeightStore store;
  store.format_ = "pytorch";
  store.files_.push_back(std::move(shared));
  for (const PickledTensor& t : tensors) {
    LANTERN_ASSIGN_OR_RETURN(WeightView view, ViewTensor(t, zip, prefix, source));
    store.AddTensor(t.name, std::move(view));
  }
  return store;
}

}  // namespace lantern::model
