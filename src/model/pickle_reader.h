// Reads the pickle of a PyTorch state dict (data.pkl inside a torch.save archive) without
// executing it: a small interpreter of the opcodes such a pickle uses, where GLOBAL may
// name only an allowlist (OrderedDict, torch's tensor rebuild functions and storage types)
// and REDUCE may call only those. Anything else is refused with the opcode and offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace lantern::model {

// One tensor of the state dict as torch._utils._rebuild_tensor_v2 describes it: a view of
// `shape` and `stride` (in elements) from `storage_offset` into storage `storage_key`,
// whose bytes are the archive entry "<archive>/data/<storage_key>".
struct PickledTensor {
  std::string name;
  std::string storage_type;  // e.g. "FloatStorage", "HalfStorage", "BFloat16Storage"
  std::string storage_key;
  uint64_t storage_numel = 0;
  int64_t storage_offset = 0;
  std::vector<int64_t> shape;
  std::vector<int64_t> stride;
};

// Interprets `pickle` (named `source` in errors), which must evaluate to a dict of
// name -> tensor. Tensors are returned in the dict's order.
Result<std::vector<PickledTensor>> ParseStateDictPickle(std::span<const std::byte> pickle,
                                                        const std::string& source);

}  // namespace lantern::model
