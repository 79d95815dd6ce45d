#include "tensor/attention.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "tensor/simd.h"

namespace lantern::tensor {
namespace {

// Queries of one (sequence, head) computed together: each K/V block is loaded once
// for the whole tile and stays in L1 while the tile's queries use it.
constexpr int kQueryTile = 16;

struct Task {
  int32_t sequence;
  int32_t head;
  int32_t first;  // index of the first new token of the tile
  int32_t count;
};

// Online-softmax state of one query row.
struct RowState {
  float max;
  float sum;
};

void AttendTile(const PagedKvLayer& kv, const AttentionSequence& seq, const Task& task,
                const float* q, int64_t ldq, int num_heads, float* out, int64_t ldo, int window,
                std::vector<float>& acc_buffer) {
  const int hd = kv.head_dim;
  const int bs = kv.block_size;
  const int kv_head = task.head / (num_heads / kv.num_kv_heads);
  acc_buffer.assign(static_cast<size_t>(task.count) * hd, 0.0f);
  float* acc = acc_buffer.data();
  RowState state[kQueryTile];
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
        const __mmask16 mask = static_cast<__mmask16>(simd::FirstLanes(lanes) &
                                                      ~simd::FirstLanes(std::max(0, skip - c)));
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
            const __mmask16 dm = simd::FirstLanes(hd - d);
            _mm512_mask_storeu_ps(arow + d, dm,
                                  _mm512_mul_ps(_mm512_maskz_loadu_ps(dm, arow + d), vc));
          }
          st.max = chunk_max;
        }
        const __m512 p =
            _mm512_maskz_mov_ps(mask, simd::Exp(_mm512_sub_ps(s, _mm512_set1_ps(st.max))));
        st.sum += _mm512_reduce_add_ps(p);
        _mm512_store_ps(probs, p);
        for (int d = 0; d < hd; d += 16) {
          const __mmask16 dm = simd::FirstLanes(hd - d);
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

void WritePagedKv(ThreadPool& pool, const PagedKvLayer& kv,
                  std::span<const AttentionSequence> sequences, const float* k, int64_t ldk,
                  const float* v, int64_t ldv) {
  const int hd = kv.head_dim;
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
        float* kb = kv.keys + block * kv.block_stride;
        float* vb = kv.values + block * kv.block_stride;
        for (int h = 0; h < kv.num_kv_heads; ++h) {
          float* kt = kb + static_cast<int64_t>(h) * hd * bs + slot;
          for (int d = 0; d < hd; ++d) kt[static_cast<int64_t>(d) * bs] = krow[h * hd + d];
          std::copy_n(vrow + h * hd, hd, vb + (static_cast<int64_t>(h) * bs + slot) * hd);
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
  tasks.clear();
  for (size_t s = 0; s < sequences.size(); ++s) {
    // Latest (longest) tiles first, so the biggest tasks do not finish last.
    for (int32_t first = (sequences[s].num_new - 1) / kQueryTile * kQueryTile; first >= 0;
         first -= kQueryTile) {
      const int32_t count = std::min(kQueryTile, sequences[s].num_new - first);
      for (int h = 0; h < num_heads; ++h) {
        tasks.push_back({static_cast<int32_t>(s), h, first, count});
      }
    }
  }
  pool.ParallelFor(static_cast<int64_t>(tasks.size()), 1, [&](int64_t begin, int64_t end) {
    thread_local std::vector<float> acc_buffer;
    for (int64_t i = begin; i < end; ++i) {
      AttendTile(kv, sequences[tasks[i].sequence], tasks[i], q, ldq, num_heads, out, ldo,
                 sliding_window, acc_buffer);
    }
  });
}

}  // namespace lantern::tensor
