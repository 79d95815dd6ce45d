// One layer of a KvCache as the attention kernels read it (internal to model/).
#pragma once

#include "model/model.h"
#include "tensor/attention.h"

namespace lantern::model {

inline tensor::KvElement KvElementOf(DType dtype) {
  switch (dtype) {
    case DType::kBF16:
      return tensor::KvElement::kBF16;
    case DType::kF16:
      return tensor::KvElement::kF16;
    case DType::kF32:
      break;
  }
  return tensor::KvElement::kF32;
}

inline tensor::PagedKvLayer PagedLayer(KvCache& kv, int layer) {
  return {.keys = kv.key_block(layer, 0),
          .values = kv.value_block(layer, 0),
          .block_stride = static_cast<int64_t>(kv.elements_per_block()),
          .block_size = kv.block_size(),
          .num_kv_heads = kv.num_kv_heads(),
          .head_dim = kv.head_dim(),
          .type = KvElementOf(kv.dtype())};
}

}  // namespace lantern::model
