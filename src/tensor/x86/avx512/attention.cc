// The AVX-512 variant of paged attention's tile kernel: 16 slots' scores are masked FMAs
// over the head dimension (keys are stored slot-minor), with an online softmax. A 16-bit
// cache is read 16 elements per masked 256-bit load and widened in registers: bfloat16 by
// a zero-extend and a shift, IEEE half by vcvtph2ps; the sums stay fp32.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "tensor/dispatch.h"
#include "tensor/x86/avx512/simd.h"

namespace lantern::tensor::avx512 {
namespace {

// Masked loads of 16 elements widened to fp32 (masked-off lanes read nothing and are 0).
struct F32Elements {
  using T = float;
  static __m512 Load(__mmask16 m, const float* p) { return _mm512_maskz_loadu_ps(m, p); }
};

struct BFloat16Elements {
  using T = uint16_t;
  static __m512 Load(__mmask16 m, const uint16_t* p) {
    const __m512i wide = _mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(wide, 16));
  }
};

struct HalfElements {
  using T = uint16_t;
  static __m512 Load(__mmask16 m, const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
  }
};

// Online-softmax state of one query row.
struct RowState {
  float max;
  float sum;
};

// The 16 slots' scores against one query row (keys slot-minor: kt[d * bs + slot]), the head
// dimension split over four partial sums so that the FMAs do not wait on each other (one
// chain of 64 dependent FMAs otherwise, latency-bound).
template <class E>
__m512 Scores(const float* qrow, const typename E::T* kt, int bs, int hd, __mmask16 mask) {
  __m512 part[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                    _mm512_setzero_ps()};
  int d = 0;
  for (; d + 4 <= hd; d += 4) {
    for (int u = 0; u < 4; ++u) {
      part[u] =
          _mm512_fmadd_ps(_mm512_set1_ps(qrow[d + u]), E::Load(mask, kt + (d + u) * bs), part[u]);
    }
  }
  for (; d < hd; ++d) {
    part[0] = _mm512_fmadd_ps(_mm512_set1_ps(qrow[d]), E::Load(mask, kt + d * bs), part[0]);
  }
  return _mm512_add_ps(_mm512_add_ps(part[0], part[1]), _mm512_add_ps(part[2], part[3]));
}

// arow[d] += sum over slots t in [lo, lanes) of p[t] * v[t][d]: 64 columns at a time in four
// vectors, even and odd slots summed apart, so that eight FMAs are independent (a chain over
// the slots per vector otherwise).
template <class E>
void AccumulateValues(const float* p, int lo, int lanes, const typename E::T* v, int hd,
                      float* arow) {
  for (int d = 0; d < hd; d += 64) {
    __mmask16 dm[4];
    __m512 even[4], odd[4];
    for (int g = 0; g < 4; ++g) {
      dm[g] = FirstLanes(std::clamp(hd - d - 16 * g, 0, 16));
      even[g] = _mm512_maskz_loadu_ps(dm[g], arow + d + 16 * g);
      odd[g] = _mm512_setzero_ps();
    }
    int t = lo;
    for (; t + 1 < lanes; t += 2) {
      const __m512 p0 = _mm512_set1_ps(p[t]), p1 = _mm512_set1_ps(p[t + 1]);
      const typename E::T* v0 = v + static_cast<int64_t>(t) * hd + d;
      for (int g = 0; g < 4; ++g) {
        even[g] = _mm512_fmadd_ps(p0, E::Load(dm[g], v0 + 16 * g), even[g]);
        odd[g] = _mm512_fmadd_ps(p1, E::Load(dm[g], v0 + hd + 16 * g), odd[g]);
      }
    }
    if (t < lanes) {
      const __m512 p0 = _mm512_set1_ps(p[t]);
      const typename E::T* v0 = v + static_cast<int64_t>(t) * hd + d;
      for (int g = 0; g < 4; ++g)
        even[g] = _mm512_fmadd_ps(p0, E::Load(dm[g], v0 + 16 * g), even[g]);
    }
    for (int g = 0; g < 4; ++g)
      _mm512_mask_storeu_ps(arow + d + 16 * g, dm[g], _mm512_add_ps(even[g], odd[g]));
  }
}

template <class E>
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
    using T = typename E::T;
    const T* kt = static_cast<const T*>(kv.keys) + block * kv.block_stride +
                  static_cast<int64_t>(kv_head) * hd * bs;
    const T* vb = static_cast<const T*>(kv.values) + block * kv.block_stride +
                  static_cast<int64_t>(kv_head) * bs * hd;
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
        __m512 s = Scores<E>(qrow, kt + c, bs, hd, mask);
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
        AccumulateValues<E>(probs, std::max(0, skip - c), lanes, vb + static_cast<int64_t>(c) * hd,
                            hd, arow);
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

void InstallAttention(AttentionKernels& table) {
  table.attend_tile = AttendTile<F32Elements>;
  table.attend_tile_bf16 = AttendTile<BFloat16Elements>;
  table.attend_tile_f16 = AttendTile<HalfElements>;
}

}  // namespace lantern::tensor::avx512
