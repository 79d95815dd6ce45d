#include "tensor/attention.h"

#include <algorithm>
#include <vector>

#include "tensor/dispatch.h"
#include "tensor/half.h"

namespace lantern::tensor {
namespace {

struct Task {
  int32_t sequence;
  AttentionTile tile;
};

}  // namespace

namespace {

// One token's K and V rows into their slot, converted by `narrow` (float -> element).
template <class T, class Narrow>
void WriteToken(const PagedKvLayer& kv, int64_t block, int slot, const float* krow,
                const float* vrow, Narrow narrow) {
  const int hd = kv.head_dim;
  const int bs = kv.block_size;
  T* kb = static_cast<T*>(kv.keys) + block * kv.block_stride;
  T* vb = static_cast<T*>(kv.values) + block * kv.block_stride;
  for (int h = 0; h < kv.num_kv_heads; ++h) {
    T* kt = kb + static_cast<int64_t>(h) * hd * bs + slot;
    for (int d = 0; d < hd; ++d) kt[static_cast<int64_t>(d) * bs] = narrow(krow[h * hd + d]);
    T* vt = vb + (static_cast<int64_t>(h) * bs + slot) * hd;
    for (int d = 0; d < hd; ++d) vt[d] = narrow(vrow[h * hd + d]);
  }
}

}  // namespace

void WritePagedKv(ThreadPool& pool, const PagedKvLayer& kv,
                  std::span<const AttentionSequence> sequences, const float* k, int64_t ldk,
                  const float* v, int64_t ldv) {
  const int bs = kv.block_size;
  pool.ParallelFor(static_cast<int64_t>(sequences.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t s = begin; s < end; ++s) {
      const AttentionSequence& seq = sequences[s];
      for (int32_t t = 0; t < seq.num_new; ++t) {
        const int64_t pos = seq.start_position + t;
        const int64_t block = seq.block_table[pos / bs];
        const int slot = static_cast<int>(pos % bs);
        const float* krow = k + (seq.first_row + t) * ldk;
        const float* vrow = v + (seq.first_row + t) * ldv;
        switch (kv.type) {
          case KvElement::kF32:
            WriteToken<float>(kv, block, slot, krow, vrow, [](float x) { return x; });
            break;
          case KvElement::kBF16:
            WriteToken<uint16_t>(kv, block, slot, krow, vrow, FloatToBFloat16Bits);
            break;
          case KvElement::kF16:
            WriteToken<uint16_t>(kv, block, slot, krow, vrow, FloatToHalfBits);
            break;
        }
      }
    }
  });
}

void PagedAttention(ThreadPool& pool, const PagedKvLayer& kv,
                    std::span<const AttentionSequence> sequences, const float* q, int64_t ldq,
                    int num_heads, float* out, int64_t ldo, int sliding_window) {
  thread_local std::vector<Task> task_storage;
  std::vector<Task>& tasks = task_storage;  // workers must see the caller's list
  const AttentionKernels& kernels = Kernels().attention;
  const auto attend_tile = kv.type == KvElement::kBF16  ? kernels.attend_tile_bf16
                           : kv.type == KvElement::kF16 ? kernels.attend_tile_f16
                                                        : kernels.attend_tile;
  const int head_dim = kv.head_dim;
  tasks.clear();
  for (size_t s = 0; s < sequences.size(); ++s) {
    // Latest (longest) tiles first, so the biggest tasks do not finish last.
    for (int32_t first = (sequences[s].num_new - 1) / kAttentionQueryTile * kAttentionQueryTile;
         first >= 0; first -= kAttentionQueryTile) {
      const int32_t count = std::min(kAttentionQueryTile, sequences[s].num_new - first);
      for (int h = 0; h < num_heads; ++h) {
        tasks.push_back({static_cast<int32_t>(s), {h, first, count}});
      }
    }
  }
  pool.ParallelFor(static_cast<int64_t>(tasks.size()), 1, [&](int64_t begin, int64_t end) {
    thread_local std::vector<float> scratch;
    scratch.resize(static_cast<size_t>(kAttentionQueryTile) * head_dim);
    for (int64_t i = begin; i < end; ++i) {
      attend_tile(kv, sequences[tasks[i].sequence], tasks[i].tile, q, ldq, num_heads, out, ldo,
                  sliding_window, scratch.data());
    }
  });
}

}  // namespace lantern::tensor
