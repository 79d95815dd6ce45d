// Zip layout (APPNOTE.TXT): local file headers with data, then the central directory (one
// record per entry), then the end-of-central-directory record (EOCD), which a zip64
// archive precedes with a zip64 EOCD record and its locator. We trust only the central
// directory for sizes and find each entry's data through its local header.
#include "model/zip_reader.h"

#include <algorithm>

#include "model/loader_util.h"

namespace lantern::model {
namespace {

using internal::CheckedAdd;
using internal::Quote;
using internal::ReadLe;

constexpr uint32_t kLocalHeaderSig = 0x04034b50;
constexpr uint32_t kCentralHeaderSig = 0x02014b50;
constexpr uint32_t kEocdSig = 0x06054b50;
constexpr uint32_t kZip64EocdSig = 0x06064b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50;
constexpr size_t kEocdSize = 22;
constexpr size_t kZip64EocdSize = 56;
constexpr size_t kZip64LocatorSize = 20;
constexpr size_t kCentralHeaderSize = 46;
constexpr size_t kLocalHeaderSize = 30;
constexpr uint64_t kMaxEntries = 1 << 22;

// Bounds-checked reads from the archive; every accessor fails instead of reading past it.
class Cursor {
 public:
  explicit Cursor(std::span<const std::byte> bytes) : bytes_(bytes) {}
  bool Has(uint64_t offset, uint64_t len) const {
    uint64_t end;
    return CheckedAdd(offset, len, &end) && end <= bytes_.size();
  }
  template <typename T>
  T Read(uint64_t offset) const {
    return ReadLe<T>(bytes_.data() + offset);  // callers check Has() first
  }
  std::span<const std::byte> Slice(uint64_t offset, uint64_t len) const {
    return bytes_.subspan(offset, len);
  }

 private:
  std::span<const std::byte> bytes_;
};

struct Directory {
  uint64_t count = 0;
  uint64_t offset = 0;
  uint64_t size = 0;
};

Result<Directory> FindDirectory(const Cursor& in, uint64_t file_size, const std::string& source) {
  if (file_size < kEocdSize) return DataLoss(source + ": too short to be a zip archive");
  // The EOCD is the last record, followed only by a comment of at most 65535 bytes.
  uint64_t lowest = file_size > kEocdSize + 0xFFFF ? file_size - kEocdSize - 0xFFFF : 0;
  uint64_t eocd = file_size - kEocdSize;
  while (true) {
    if (in.Read<uint32_t>(eocd) == kEocdSig &&
        eocd + kEocdSize + in.Read<uint16_t>(eocd + 20) <= file_size) {
      break;
    }
    if (eocd == lowest) {
      return DataLoss(source + ": not a zip archive (no end-of-central-directory record)");
    }
    --eocd;
  }
  if (in.Read<uint16_t>(eocd + 4) != 0 || in.Read<uint16_t>(eocd + 6) != 0) {
    return DataLoss(source + ": multi-volume zip archives are not supported");
  }
  Directory dir;
  dir.count = in.Read<uint16_t>(eocd + 10);
  dir.size = in.Read<uint32_t>(eocd + 12);
  dir.offset = in.Read<uint32_t>(eocd + 16);
  const bool zip64 = dir.count == 0xFFFF || dir.size == 0xFFFFFFFF || dir.offset == 0xFFFFFFFF;
  if (eocd >= kZip64LocatorSize &&
      in.Read<uint32_t>(eocd - kZip64LocatorSize) == kZip64LocatorSig) {
    uint64_t record = in.Read<uint64_t>(eocd - kZip64LocatorSize + 8);
    if (!in.Has(record, kZip64EocdSize) || in.Read<uint32_t>(record) != kZip64EocdSig) {
      return DataLoss(source + ": zip64 end-of-central-directory record is missing or corrupt");
    }
    dir.count = in.Read<uint64_t>(record + 32);
    dir.size = in.Read<uint64_t>(record + 40);
    dir.offset = in.Read<uint64_t>(record + 48);
  } else if (zip64) {
    return DataLoss(source + ": zip64 archive without a zip64 end-of-central-directory locator");
  }
  if (!in.Has(dir.offset, dir.size)) {
    return DataLoss(source + ": central directory (offset " + std::to_string(dir.offset) + ", " +
                    std::to_string(dir.size) + " bytes) lies outside the file");
  }
  if (dir.count > kMaxEntries || dir.count > dir.size / kCentralHeaderSize) {
    return DataLoss(source + ": central directory claims " + std::to_string(dir.count) +
                    " entries, more than its " + std::to_string(dir.size) + " bytes can hold");
  }
  return dir;
}

// Applies the zip64 extended-information extra field (id 1) to the sizes and offset that
// the fixed record marks as 0xFFFFFFFF, in the order the specification gives.
Status ApplyZip64Extra(std::span<const std::byte> extra, uint64_t* size, uint64_t* csize,
                       uint64_t* local_offset, const std::string& where) {
  Cursor in(extra);
  uint64_t pos = 0;
  while (in.Has(pos, 4)) {
    uint16_t id = in.Read<uint16_t>(pos);
    uint16_t len = in.Read<uint16_t>(pos + 2);
    if (!in.Has(pos + 4, len)) return DataLoss(where + ": extra field runs past its record");
    if (id == 1) {
      uint64_t field = pos + 4, end = pos + 4 + len;
      for (uint64_t* value : {size, csize, local_offset}) {
        if (*value != 0xFFFFFFFF) continue;
        if (field + 8 > end) return DataLoss(where + ": zip64 extra field is too short");
        *value = in.Read<uint64_t>(field);
        field += 8;
      }
      return Status::Ok();
    }
    pos += 4 + len;
  }
  if (*size == 0xFFFFFFFF || *csize == 0xFFFFFFFF || *local_offset == 0xFFFFFFFF) {
    return DataLoss(where + ": zip64 sizes are marked but the zip64 extra field is missing");
  }
  return Status::Ok();
}

}  // namespace

Result<ZipReader> ZipReader::Parse(std::span<const std::byte> bytes, const std::string& source) {
  Cursor in(bytes);
  LANTERN_ASSIGN_OR_RETURN(Directory dir, FindDirectory(in, bytes.size(), source));
  ZipReader reader;
  reader.source_ = source;
  reader.entries_.reserve(dir.count);
  uint64_t pos = dir.offset;
  const uint64_t dir_end = dir.offset + dir.size;
  for (uint64_t i = 0; i < dir.count; ++i) {
    const std::string where = source + ": zip entry #" + std::to_string(i);
    if (pos + kCentralHeaderSize > dir_end || in.Read<uint32_t>(pos) != kCentralHeaderSig) {
      return DataLoss(where + ": corrupt central directory record");
    }
    Entry entry;
    const uint16_t flags = in.Read<uint16_t>(pos + 8);
    entry.method = in.Read<uint16_t>(pos + 10);
    entry.encrypted = (flags & 1) != 0;
    uint64_t csize = in.Read<uint32_t>(pos + 20);
    entry.size = in.Read<uint32_t>(pos + 24);
    const uint16_t name_len = in.Read<uint16_t>(pos + 28);
    const uint16_t extra_len = in.Read<uint16_t>(pos + 30);
    const uint16_t comment_len = in.Read<uint16_t>(pos + 32);
    uint64_t local = in.Read<uint32_t>(pos + 42);
    const uint64_t record_len = kCentralHeaderSize + name_len + extra_len + comment_len;
    if (pos + record_len > dir_end) return DataLoss(where + ": record runs past the directory");
    auto name = in.Slice(pos + kCentralHeaderSize, name_len);
    entry.name.assign(reinterpret_cast<const char*>(name.data()), name.size());
    const std::string named = source + ": zip entry " + Quote(entry.name);
    LANTERN_RETURN_IF_ERROR(
        ApplyZip64Extra(in.Slice(pos + kCentralHeaderSize + name_len, extra_len), &entry.size,
                        &csize, &local, named));
    // The local header repeats the name and has its own extra field (torch pads with it
    // to align the data); the data follows.
    if (!in.Has(local, kLocalHeaderSize) || in.Read<uint32_t>(local) != kLocalHeaderSig) {
      return DataLoss(named + ": local header at offset " + std::to_string(local) +
                      " is missing or corrupt");
    }
    const uint64_t data =
        local + kLocalHeaderSize + in.Read<uint16_t>(local + 26) + in.Read<uint16_t>(local + 28);
    if (!in.Has(data, csize)) {
      return DataLoss(named + ": data (" + std::to_string(csize) + " bytes at offset " +
                      std::to_string(data) + ") runs past the end of the archive");
    }
    if (entry.method == 0 && csize != entry.size) {
      return DataLoss(named + ": stored entry has compressed size " + std::to_string(csize) +
                      " but size " + std::to_string(entry.size));
    }
    entry.stored = in.Slice(data, csize);
    reader.entries_.push_back(std::move(entry));
    pos += record_len;
  }
  std::sort(reader.entries_.begin(), reader.entries_.end(),
            [](const Entry& a, const Entry& b) { return a.name < b.name; });
  for (size_t i = 1; i < reader.entries_.size(); ++i) {
    if (reader.entries_[i].name == reader.entries_[i - 1].name) {
      return DataLoss(source + ": zip entry " + Quote(reader.entries_[i].name) + " appears twice");
    }
  }
  return reader;
}

const ZipReader::Entry* ZipReader::Find(std::string_view name) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                             [](const Entry& e, std::string_view n) { return e.name < n; });
  return it != entries_.end() && it->name == name ? &*it : nullptr;
}

Result<std::span<const std::byte>> ZipReader::Data(std::string_view name) const {
  const Entry* entry = Find(name);
  if (entry == nullptr) {
    return DataLoss(source_ + ": zip entry " + Quote(name) + " is missing");
  }
  if (entry->encrypted) {
    return Unimplemented(source_ + ": zip entry " + Quote(name) + " is encrypted");
  }
  if (entry->method != 0) {
    return Unimplemented(source_ + ": zip entry " + Quote(name) + " is compressed (method " +
                         std::to_string(entry->method) +
                         "); PyTorch checkpoints store entries uncompressed");
  }
  return entry->stored;
}

}  // namespace lantern::model
