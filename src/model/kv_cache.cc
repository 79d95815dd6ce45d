#include "model/model.h"

#include <sys/mman.h>

#include <new>
#include <utility>

namespace lantern::model {

KvCache::KvCache(int num_layers, int num_blocks, int block_size, int num_kv_heads, int head_dim,
                 DType dtype)
    : KvCache(num_layers, num_blocks, block_size, num_kv_heads, head_dim, dtype, Device{}, nullptr,
              nullptr) {
  if (num_elements_ == 0) return;
  const size_t size = bytes();
  void* memory = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (memory == MAP_FAILED) throw std::bad_alloc();
  storage_ =
      std::unique_ptr<void, Release>(memory, Release{[size](void* p) { ::munmap(p, size); }});
}

KvCache::KvCache(int num_layers, int num_blocks, int block_size, int num_kv_heads, int head_dim,
                 DType dtype, Device device, void* storage, std::function<void(void*)> release)
    : num_layers_(num_layers),
      num_blocks_(num_blocks),
      block_size_(block_size),
      num_kv_heads_(num_kv_heads),
      head_dim_(head_dim),
      dtype_(dtype),
      elements_per_block_(static_cast<size_t>(num_kv_heads) * block_size * head_dim),
      num_elements_(static_cast<size_t>(num_layers) * 2 * num_blocks * elements_per_block_),
      device_(device),
      storage_(storage, Release{std::move(release)}) {}

size_t KvCache::BytesPerBlock(int num_layers, int block_size, int num_kv_heads, int head_dim,
                              DType dtype) {
  return static_cast<size_t>(num_layers) * 2 * num_kv_heads * block_size * head_dim *
         DTypeSize(dtype);
}

// Model's KV methods live here, with the cache, so that a device plugin can define a Model
// without the CPU architectures (model.cc).
std::unique_ptr<KvCache> Model::NewKvCache(int num_blocks, int block_size,
                                           std::optional<DType> kv_dtype) const {
  const ModelConfig& c = config();
  return std::make_unique<KvCache>(c.num_hidden_layers, num_blocks, block_size,
                                   c.num_key_value_heads, c.head_dim,
                                   kv_dtype.value_or(AutoKvCacheDType()));
}

size_t Model::KvBytesPerBlock(int block_size, std::optional<DType> kv_dtype) const {
  const ModelConfig& c = config();
  return KvCache::BytesPerBlock(c.num_hidden_layers, block_size, c.num_key_value_heads, c.head_dim,
                                kv_dtype.value_or(AutoKvCacheDType()));
}

}  // namespace lantern::model
