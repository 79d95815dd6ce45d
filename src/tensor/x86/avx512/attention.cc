// The AVX-512 variant of paged attention's tile kernel: 16 slots' scores are one masked
// FMA chain over the head dimension (keys are stored slot-minor), with an online softmax.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "tensor/dispatch.h"
#include "tensor/x86/avx512/simd.h"

namespace lantern::tensor::avx512 {
namespace {

// Online-softmax state of one query row.
struct RowState {
  float max;
  float sum;
};

void AttendTile(const PagedKvLayer& kv, const AttentionSequence& seq, const AttentionTile& task,
                const float* q, int64_t ldq, int num_heads, float* out, int64_t ldo, int window,
                float* acc) {
  const int hd = kv.head_dim;
  const int bs = kv.block_size;
  const int kv_head = task.head / (num_heads / kv.num_kv_heads);
  for (int64_t i = 0; i < static_cast<int64_t>(task.count) * hd; ++i) acc[i] = 0.0f;
  RowState state[kAttentionQueryTile];
  for (int i = 0; i < task.count; ++i) state[i] = {-INFINITY, 0.0f};

  const int64_t last_pos = seq.start_position + task.first + task.count - 1;
  const int64_t num_blocks = last_pos / bs + 1;
  // With a window, blocks wholly before the tile's first row's window are skipped.
  const int64_t first_pos = seq.start_position + task.first;
  const int64_t first_block = window > 0 ? std::max<int64_t>(0, first_pos - window + 1) / bs : 0;
  alignas(64) float probs[16];
  for (int64_t j = first_block; j < num_blocks; ++j) {
    const int64_t block = seq.block_table[j];
    const float* kt = kv.keys + block * kv.block_stride + static_cast<int64_t>(kv_head) * hd * bs;
    const float* vb = kv.values + block * kv.block_stride + static_cast<int64_t>(kv_head) * bs * hd;
    const int64_t block_start = j * bs;
    for (int i = 0; i < task.count; ++i) {
      const int64_t pos = seq.start_position + task.first + i;
      if (block_start > pos) continue;
      const int valid = static_cast<int>(std::min<int64_t>(bs, pos - block_start + 1));
      // Slots before `skip` fall outside the row's window.
      const int64_t lowest = window > 0 ? pos - window + 1 : 0;
      const int skip = static_cast<int>(std::clamp<int64_t>(lowest - block_start, 0, bs));
      if (skip >= valid) continue;
      const float* qrow = q + (seq.first_row + task.first + i) * ldq + task.head * hd;
      float* arow = acc + static_cast<int64_t>(i) * hd;
      RowState& st = state[i];
      for (int c = skip / 16 * 16; c < valid; c += 16) {
        const int lanes = std::min(16, valid - c);
        const __mmask16 mask =
            static_cast<__mmask16>(FirstLanes(lanes) & ~FirstLanes(std::max(0, skip - c)));
        __m512 s = _mm512_setzero_ps();
        for (int d = 0; d < hd; ++d) {
          s = _mm512_fmadd_ps(_mm512_set1_ps(qrow[d]), _mm512_maskz_loadu_ps(mask, kt + d * bs + c),
                              s);
        }
        s = _mm512_mask_mov_ps(_mm512_set1_ps(-INFINITY), mask, s);
        const float chunk_max = _mm512_reduce_max_ps(s);
        if (chunk_max > st.max) {
          const float correction = std::exp(st.max - chunk_max);  // exp(-inf) = 0 at first
          st.sum *= correction;
          const __m512 vc = _mm512_set1_ps(correction);
          for (int d = 0; d < hd; d += 16) {
            const __mmask16 dm = FirstLanes(hd - d);
            _mm512_mask_storeu_ps(arow + d, dm,
                                  _mm512_mul_ps(_mm512_maskz_loadu_ps(dm, arow + d), vc));
          }
          st.max = chunk_max;
        }
        const __m512 p = _mm512_maskz_mov_ps(mask, Exp(_mm512_sub_ps(s, _mm512_set1_ps(st.max))));
        st.sum += _mm512_reduce_add_ps(p);
        _mm512_store_ps(probs, p);
        for (int d = 0; d < hd; d += 16) {
          const __mmask16 dm = FirstLanes(hd - d);
          __m512 a = _mm512_maskz_loadu_ps(dm, arow + d);
          for (int t = std::max(0, skip - c); t < lanes; ++t) {
            a = _mm512_fmadd_ps(
                _mm512_set1_ps(probs[t]),
                _mm512_maskz_loadu_ps(dm, vb + static_cast<int64_t>(c + t) * hd + d), a);
          }
          _mm512_mask_storeu_ps(arow + d, dm, a);
        }
      }
    }
  }
  for (int i = 0; i < task.count; ++i) {
    float* orow = out + (seq.first_row + task.first + i) * ldo + task.head * hd;
    const float inv = 1.0f / state[i].sum;
    for (int d = 0; d < hd; ++d) orow[d] = acc[static_cast<int64_t>(i) * hd + d] * inv;
  }
}

}  // namespace

void InstallAttention(AttentionKernels& table) { table.attend_tile = AttendTile; }

}  // namespace lantern::tensor::avx512
