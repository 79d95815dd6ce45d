// Where a model computes: the CPU (the default) or a CUDA device (issue 20), as vLLM's
// --device names it ("cpu", "cuda", "cuda:1").
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace lantern::model {

struct Device {
  enum class Kind : uint8_t { kCpu, kCuda };
  Kind kind = Kind::kCpu;
  int index = 0;  // the CUDA device ordinal

  bool is_cuda() const { return kind == Kind::kCuda; }
  std::string ToString() const;  // "cpu", "cuda:0"
  bool operator==(const Device&) const = default;
};

// "cpu", "cuda", "cuda:N" (also "gpu" for vLLM's older spelling); an error naming the
// accepted values otherwise.
Result<Device> ParseDevice(std::string_view text);

}  // namespace lantern::model
