// The safetensors format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
// describing each tensor (dtype, shape, data_offsets relative to the data section) plus an
// optional "__metadata__" string map, then the data section. We apply every check of the
// reference (Rust) reader so that a file it would reject is rejected here too.
#include <algorithm>
#include <string>
#include <vector>

#include "model/loader_util.h"
#include "model/weights.h"

namespace lantern::model {
namespace {

using internal::CheckedMul;
using internal::Quote;
using nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // the reference reader's limit
constexpr size_t kMaxRank = 64;

// Every dtype the format defines, with its element size in bits, and ours where we
// compute with it. Sub-byte float types have no whole-byte size (bits < 8).
struct DTypeInfo {
  const char* name;
  int bits;
  bool supported;
  DType dtype;
};
constexpr DTypeInfo kDTypes[] = {
    {"F32", 32, true, DType::kF32},     {"F16", 16, true, DType::kF16},
    {"BF16", 16, true, DType::kBF16},   {"BOOL", 8, false, DType::kF32},
    {"U8", 8, false, DType::kF32},      {"I8", 8, false, DType::kF32},
    {"F8_E5M2", 8, false, DType::kF32}, {"F8_E4M3", 8, false, DType::kF32},
    {"F8_E8M0", 8, false, DType::kF32}, {"I16", 16, false, DType::kF32},
    {"U16", 16, false, DType::kF32},    {"I32", 32, false, DType::kF32},
    {"U32", 32, false, DType::kF32},    {"F64", 64, false, DType::kF32},
    {"I64", 64, false, DType::kF32},    {"U64", 64, false, DType::kF32},
    {"C64", 64, false, DType::kF32},    {"F4", 4, false, DType::kF32},
    {"F6_E2M3", 6, false, DType::kF32}, {"F6_E3M2", 6, false, DType::kF32},
};

const DTypeInfo* FindDType(const std::string& name) {
  for (const auto& info : kDTypes) {
    if (name == info.name) return &info;
  }
  return nullptr;
}

struct TensorEntry {
  std::string name;
  const DTypeInfo* dtype = nullptr;
  std::vector<int64_t> shape;
  uint64_t begin = 0;
  uint64_t end = 0;
};

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

Status CheckMetadata(const json& metadata, const std::string& source) {
  if (!metadata.is_object()) {
    return DataLoss(source + ": \"__metadata__\" must be an object of strings, got " +
                    metadata.type_name());
  }
  for (const auto& [key, value] : metadata.items()) {
    if (!value.is_string()) {
      return DataLoss(source + ": \"__metadata__\" value for " + Quote(key) +
                      " must be a string, got " + value.type_name());
    }
  }
  return Status::Ok();
}

// Reads one unsigned integer list field ("shape" or "data_offsets") of a tensor entry.
Status ReadUintList(const json& info, const char* field, const std::string& where,
                    std::vector<uint64_t>* out) {
  auto it = info.find(field);
  if (it == info.end()) return DataLoss(where + ": missing field \"" + field + "\"");
  if (!it->is_array()) {
    return DataLoss(where + ": \"" + field + "\" must be an array of non-negative integers, got " +
                    it->type_name());
  }
  if (it->size() > kMaxRank) {
    return DataLoss(where + ": \"" + field + "\" has " + std::to_string(it->size()) +
                    " entries (at most " + std::to_string(kMaxRank) + ")");
  }
  for (const auto& v : *it) {
    if (!v.is_number_unsigned()) {
      return DataLoss(where + ": \"" + field + "\" must hold non-negative integers, found " +
                      v.dump());
    }
    out->push_back(v.get<uint64_t>());
  }
  return Status::Ok();
}

Result<TensorEntry> ReadTensorEntry(const std::string& name, const json& info,
                                    const std::string& source) {
  const std::string where = source + ": tensor " + Quote(name);
  if (!info.is_object()) return DataLoss(where + ": expected an object, got " + info.type_name());
  TensorEntry entry;
  entry.name = name;
  auto dtype = info.find("dtype");
  if (dtype == info.end()) return DataLoss(where + ": missing field \"dtype\"");
  if (!dtype->is_string()) return DataLoss(where + ": \"dtype\" must be a string");
  entry.dtype = FindDType(dtype->get<std::string>());
  if (entry.dtype == nullptr) {
    return DataLoss(where + ": unknown dtype " + Quote(dtype->get<std::string>()));
  }
  std::vector<uint64_t> shape, offsets;
  LANTERN_RETURN_IF_ERROR(ReadUintList(info, "shape", where, &shape));
  LANTERN_RETURN_IF_ERROR(ReadUintList(info, "data_offsets", where, &offsets));
  if (offsets.size() != 2) {
    return DataLoss(where + ": \"data_offsets\" must be [begin, end], got " +
                    std::to_string(offsets.size()) + " numbers");
  }
  for (uint64_t dim : shape) {
    if (dim > static_cast<uint64_t>(INT64_MAX)) {
      return DataLoss(where + ": dimension " + std::to_string(dim) + " overflows");
    }
    entry.shape.push_back(static_cast<int64_t>(dim));
  }
  entry.begin = offsets[0];
  entry.end = offsets[1];
  return entry;
}

}  // namespace

Result<std::map<std::string, WeightView, std::less<>>> ParseSafetensors(
    std::span<const std::byte> bytes, const std::string& source) {
  if (bytes.size() < 8) {
    return DataLoss(source + ": file is " + std::to_string(bytes.size()) +
                    " bytes, too short for the 8-byte safetensors header length");
  }
  const uint64_t header_len = internal::ReadLe<uint64_t>(bytes.data());
  if (header_len > kMaxHeaderBytes) {
    return DataLoss(source + ": safetensors header length " + std::to_string(header_len) +
                    " exceeds the limit of " + std::to_string(kMaxHeaderBytes) + " bytes");
  }
  const uint64_t data_start = 8 + header_len;
  if (data_start > bytes.size()) {
    return DataLoss(source + ": safetensors header length " + std::to_string(header_len) +
                    " runs past the end of the file (" + std::to_string(bytes.size()) + " bytes)");
  }
  std::string_view header(reinterpret_cast<const char*>(bytes.data() + 8), header_len);
  if (!internal::IsValidUtf8(header)) {
    return DataLoss(source + ": safetensors header is not valid UTF-8");
  }
  if (header.empty() || header.front() != '{') {
    return DataLoss(source + ": safetensors header does not start with '{'");
  }
  auto parsed = internal::ParseJsonStrict(header, source + ": safetensors header", 8);
  if (!parsed.ok()) return DataLoss(parsed.status().message());
  const json& root = *parsed;
  if (!root.is_object()) return DataLoss(source + ": safetensors header is not a JSON object");

  std::vector<TensorEntry> entries;
  entries.reserve(root.size());
  for (const auto& [name, info] : root.items()) {
    if (name == "__metadata__") {
      // The reference reader's metadata is Option<HashMap<String, String>>: null is none.
      if (!info.is_null()) LANTERN_RETURN_IF_ERROR(CheckMetadata(info, source));
      continue;
    }
    LANTERN_ASSIGN_OR_RETURN(TensorEntry entry, ReadTensorEntry(name, info, source));
    entries.push_back(std::move(entry));
  }

  // The data section must be tiled exactly: sorted by offset, each tensor starting where
  // the previous ended, each span exactly numel * element size, nothing left over.
  std::sort(entries.begin(), entries.end(), [](const TensorEntry& a, const TensorEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t expected_begin = 0;
  for (const TensorEntry& e : entries) {
    const std::string where = source + ": tensor " + Quote(e.name);
    if (e.begin != expected_begin || e.end < e.begin) {
      return DataLoss(where + ": data_offsets [" + std::to_string(e.begin) + ", " +
                      std::to_string(e.end) + "] are not contiguous with the other tensors " +
                      "(expected it to start at " + std::to_string(expected_begin) +
                      "; offsets overlap or leave a hole)");
    }
    uint64_t numel = 1;
    for (int64_t dim : e.shape) {
      if (!CheckedMul(numel, static_cast<uint64_t>(dim), &numel)) {
        return DataLoss(where + ": shape " + ShapeString(e.shape) + " overflows");
      }
    }
    uint64_t bits = 0;
    if (numel > static_cast<uint64_t>(INT64_MAX) ||
        !CheckedMul(numel, static_cast<uint64_t>(e.dtype->bits), &bits)) {
      return DataLoss(where + ": shape " + ShapeString(e.shape) + " overflows");
    }
    if (bits % 8 != 0 || bits / 8 != e.end - e.begin) {
      return DataLoss(
          where + ": shape " + ShapeString(e.shape) + " of dtype " + e.dtype->name + " needs " +
          (bits % 8 ? std::to_string(bits) + " bits" : std::to_string(bits / 8) + " bytes") +
          " but data_offsets span " + std::to_string(e.end - e.begin) + " bytes");
    }
    expected_begin = e.end;
  }
  const uint64_t data_len = bytes.size() - data_start;
  if (expected_begin != data_len) {
    return DataLoss(source + ": the tensors cover " + std::to_string(expected_begin) +
                    " bytes of data but the file holds " + std::to_string(data_len) +
                    (expected_begin < data_len ? " (trailing bytes after the last tensor)" : ""));
  }

  std::map<std::string, WeightView, std::less<>> views;
  for (TensorEntry& e : entries) {
    if (!e.dtype->supported) {
      return Unimplemented(source + ": tensor " + Quote(e.name) + " has unsupported dtype " +
                           e.dtype->name + " (Lantern reads F32, F16 and BF16 weights)");
    }
    WeightView view;
    view.dtype = e.dtype->dtype;
    view.shape = std::move(e.shape);
    view.data = bytes.data() + data_start + e.begin;
    view.nbytes = e.end - e.begin;
    views.emplace(std::move(e.name), std::move(view));
  }
  return views;
}

Result<WeightStore> WeightStore::OpenSafetensors(const std::filesystem::path& file) {
  LANTERN_ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::Open(file));
  auto shared = std::make_shared<MappedFile>(std::move(mapped));
  LANTERN_ASSIGN_OR_RETURN(auto views, ParseSafetensors(shared->bytes(), file.string()));
  WeightStore store;
  store.format_ = "safetensors";
  store.files_.push_back(std::move(shared));
  for (auto& [name, view] : views) store.AddTensor(name, std::move(view));
  return store;
}

}  // namespace lantern::model
