// Shared by the libFuzzer targets: read every byte a parser hands back, so that a view
// pointing outside the input shows up under AddressSanitizer.
#pragma once

#include <cstddef>

namespace lantern::fuzz {

inline void Touch(const std::byte* data, size_t n) {
  if (n == 0) return;
  volatile std::byte sink = data[0];
  sink = data[n - 1];
  (void)sink;
}

}  // namespace lantern::fuzz
