// A read-only view of a zip archive in memory, enough for PyTorch's checkpoint format
// (torch.save writes a zip of stored, i.e. uncompressed, entries; zip64 for big files).
// Every offset and size is bounds-checked against the buffer; nothing is decompressed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace lantern::model {

class ZipReader {
 public:
  struct Entry {
    std::string name;
    uint16_t method = 0;  // 0: stored; anything else is compressed
    bool encrypted = false;
    uint64_t size = 0;  // uncompressed size
    // The entry's bytes as stored in the archive (for a compressed entry, the compressed
    // stream); always inside the archive buffer.
    std::span<const std::byte> stored;
  };

  // Reads the central directory of the archive in `bytes` and locates each entry's data.
  // `source` names the archive in error messages. The buffer must outlive the reader.
  static Result<ZipReader> Parse(std::span<const std::byte> bytes, const std::string& source);

  const std::vector<Entry>& entries() const { return entries_; }
  const Entry* Find(std::string_view name) const;
  // The bytes of a stored, unencrypted entry; an error for a missing or compressed one.
  Result<std::span<const std::byte>> Data(std::string_view name) const;

 private:
  std::string source_;
  std::vector<Entry> entries_;  // sorted by name
};

}  // namespace lantern::model
