#include "model/model.h"

#include <sys/mman.h>

#include <new>

namespace lantern::model {

KvCache::KvCache(int num_layers, int num_blocks, int block_size, int num_kv_heads, int head_dim)
    : num_layers_(num_layers),
      num_blocks_(num_blocks),
      block_size_(block_size),
      num_kv_heads_(num_kv_heads),
      head_dim_(head_dim),
      floats_per_block_(static_cast<size_t>(num_kv_heads) * block_size * head_dim),
      num_floats_(static_cast<size_t>(num_layers) * 2 * num_blocks * floats_per_block_),
      storage_(nullptr, Unmap{num_floats_ * sizeof(float)}) {
  if (num_floats_ == 0) return;
  void* memory = ::mmap(nullptr, num_floats_ * sizeof(float), PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (memory == MAP_FAILED) throw std::bad_alloc();
  storage_.reset(static_cast<float*>(memory));
}

void KvCache::Unmap::operator()(float* p) const {
  if (p != nullptr) ::munmap(p, bytes);
}

size_t KvCache::BytesPerBlock(int num_layers, int block_size, int num_kv_heads, int head_dim) {
  return static_cast<size_t>(num_layers) * 2 * num_kv_heads * block_size * head_dim * sizeof(float);
}

}  // namespace lantern::model
