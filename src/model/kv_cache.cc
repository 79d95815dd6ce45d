#include "model/model.h"

#include <sys/mman.h>

#include <new>

namespace lantern::model {

KvCache::KvCache(int num_layers, int num_blocks, int block_size, int num_kv_heads, int head_dim,
                 DType dtype)
    : num_layers_(num_layers),
      num_blocks_(num_blocks),
      block_size_(block_size),
      num_kv_heads_(num_kv_heads),
      head_dim_(head_dim),
      dtype_(dtype),
      elements_per_block_(static_cast<size_t>(num_kv_heads) * block_size * head_dim),
      num_elements_(static_cast<size_t>(num_layers) * 2 * num_blocks * elements_per_block_),
      storage_(nullptr, Unmap{num_elements_ * DTypeSize(dtype)}) {
  if (num_elements_ == 0) return;
  void* memory = ::mmap(nullptr, bytes(), PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (memory == MAP_FAILED) throw std::bad_alloc();
  storage_.reset(memory);
}

void KvCache::Unmap::operator()(void* p) const {
  if (p != nullptr) ::munmap(p, bytes);
}

size_t KvCache::BytesPerBlock(int num_layers, int block_size, int num_kv_heads, int head_dim,
                              DType dtype) {
  return static_cast<size_t>(num_layers) * 2 * num_kv_heads * block_size * head_dim *
         DTypeSize(dtype);
}

}  // namespace lantern::model
