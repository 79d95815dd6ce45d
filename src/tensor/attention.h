// Causal attention over a paged KV cache: the keys and values of a sequence live in
// fixed-size blocks named by its block table, so sequences grow, share a pool and free
// blocks without copying. Prefill chunks and decode tokens of several sequences are
// computed in one call; there is no contiguous-cache path.
#pragma once

#include <cstdint>
#include <span>

#include "base/thread_pool.h"

namespace lantern::tensor {

// The type K and V are stored in (vLLM's --kv-cache-dtype): fp32, or 16 bits (half the
// memory, so twice the tokens in a pool) that attention widens in registers and sums in fp32.
enum class KvElement : uint8_t { kF32, kBF16, kF16 };

inline int KvElementSize(KvElement type) { return type == KvElement::kF32 ? 4 : 2; }

// One layer's K and V blocks, elements of `type` (float, or uint16_t bits of a bfloat16 or
// IEEE half). Block b starts at element b * block_stride of keys (values the same). Inside a
// block, per KV head: keys are [head_dim][block_size] (slots are the fast axis, so 16 slots'
// scores are one vector FMA chain over head_dim) and values are [block_size][head_dim].
struct PagedKvLayer {
  void* keys = nullptr;
  void* values = nullptr;
  int64_t block_stride = 0;  // in elements
  int block_size = 16;
  int num_kv_heads = 0;
  int head_dim = 0;
  KvElement type = KvElement::kF32;
};

// The new tokens of one sequence: rows [first_row, first_row + num_new) of q/k/v/out,
// at positions [start_position, start_position + num_new). The block table covers
// every position up to the last new one; its ids are valid blocks (callers check).
struct AttentionSequence {
  int64_t first_row = 0;
  int32_t num_new = 0;
  int32_t start_position = 0;
  const int32_t* block_table = nullptr;
};

// Stores each new token's K and V (rows of width num_kv_heads * head_dim at leading
// dimensions ldk/ldv) into slot pos % block_size of block block_table[pos / block_size],
// rounded to nearest even when the layer holds 16-bit elements.
void WritePagedKv(ThreadPool& pool, const PagedKvLayer& kv,
                  std::span<const AttentionSequence> sequences, const float* k, int64_t ldk,
                  const float* v, int64_t ldv);

// out[row][h*head_dim..] = softmax(q_h . K^T) V over positions 0..pos of the row's
// sequence (causal), for num_heads query heads sharing num_kv_heads KV heads (grouped
// query attention when fewer). q must already carry the 1/sqrt(head_dim) scale. The new
// tokens' K/V must have been written first. With sliding_window W > 0 a row at position p
// attends to positions (p - W, p] only (Mistral's window, as transformers masks it).
void PagedAttention(ThreadPool& pool, const PagedKvLayer& kv,
                    std::span<const AttentionSequence> sequences, const float* q, int64_t ldq,
                    int num_heads, float* out, int64_t ldo, int sliding_window = 0);

}  // namespace lantern::tensor
