// SHA-256 (OpenSSL's), fed piece by piece as a download arrives, so that checking an LFS
// file costs no second read of it.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace lantern::hub {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view bytes);
  // Lower-case hex of everything given since construction or the last Reset().
  std::string HexDigest();
  void Reset();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lantern::hub
