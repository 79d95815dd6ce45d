#include "model/model.h"

namespace lantern::model {

KvCache::KvCache(int num_layers, int num_blocks, int block_size, int num_kv_heads, int head_dim)
    : num_layers_(num_layers),
      num_blocks_(num_blocks),
      block_size_(block_size),
      num_kv_heads_(num_kv_heads),
      head_dim_(head_dim),
      floats_per_block_(static_cast<size_t>(num_kv_heads) * block_size * head_dim),
      storage_(static_cast<size_t>(num_layers) * 2 * num_blocks * floats_per_block_, 0.0f) {}

size_t KvCache::BytesPerBlock(int num_layers, int block_size, int num_kv_heads, int head_dim) {
  return static_cast<size_t>(num_layers) * 2 * num_kv_heads * block_size * head_dim * sizeof(float);
}

}  // namespace lantern::model
