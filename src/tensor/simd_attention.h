// Paged attention's tile kernel (see attention.h and dispatch.h) written once over a vector
// type S and a K/V element loader E, for the portable, AVX2 and NEON variants. Internal to
// the variant files, like simd_kernels.h (same rules on linkage), whose Exp and MapRow it
// uses.
//
// E reads the cache's elements: E::T is the stored type, E::Load / E::LoadPartial widen
// S::kLanes (or the first n) of them to one S::V, E::Scalar one. F32Elements below reads
// fp32; a variant's 16-bit loaders (the ones its 16-bit GEMV uses) go through Kv16Elements.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "tensor/dispatch.h"
#include "tensor/half.h"
#include "tensor/simd_kernels.h"

namespace lantern::tensor::simd_kernels {

template <class S>
struct F32Elements {
  using T = float;
  static typename S::V Load(const float* p) { return S::Load(p); }
  static typename S::V LoadPartial(const float* p, int n) { return S::LoadPartial(p, n); }
  static float Scalar(float x) { return x; }
};

// 16-bit elements through a GEMV loader W (simd_gemv16.h) and its scalar widening.
template <class W, float (*Widen)(uint16_t)>
struct Kv16Elements {
  using T = uint16_t;
  static auto Load(const uint16_t* p) { return W::Load(p); }
  static auto LoadPartial(const uint16_t* p, int n) { return W::LoadPartial(p, n); }
  static float Scalar(uint16_t x) { return Widen(x); }
};

// Scores of one chunk of up to 16 slots (`lanes`) against one query row; keys are slot-minor
// (kt[d * bs + slot]). The head dimension is split over four partial sums so that the FMAs
// do not wait on each other (one chain of 64 dependent FMAs otherwise, latency-bound).
template <class S, class E, int kVecs, bool kFull>
void ChunkScoresOf(const float* qrow, const typename E::T* kt, int bs, int hd, int lanes,
                   typename S::V* s) {
  constexpr int L = S::kLanes;
  typename S::V part[4][kVecs];
  for (int u = 0; u < 4; ++u) {
    for (int v = 0; v < kVecs; ++v) part[u][v] = S::Zero();
  }
  auto step = [&](typename S::V* sum, int d) {
    const typename S::V qd = S::Set1(qrow[d]);
    const typename E::T* krow = kt + static_cast<int64_t>(d) * bs;
    for (int v = 0; v < kVecs; ++v) {
      if constexpr (kFull) {
        sum[v] = S::MulAdd(qd, E::Load(krow + v * L), sum[v]);
      } else {
        const int n = std::clamp(lanes - v * L, 0, L);
        if (n > 0) sum[v] = S::MulAdd(qd, E::LoadPartial(krow + v * L, n), sum[v]);
      }
    }
  };
  int d = 0;
  for (; d + 4 <= hd; d += 4) {
    for (int u = 0; u < 4; ++u) step(part[u], d + u);
  }
  for (; d < hd; ++d) step(part[0], d);
  for (int v = 0; v < kVecs; ++v)
    s[v] = S::Add(S::Add(part[0][v], part[1][v]), S::Add(part[2][v], part[3][v]));
}

template <class S, class E, int kVecs>
void ChunkScores(const float* qrow, const typename E::T* kt, int bs, int hd, int lanes,
                 typename S::V* s) {
  if (lanes == kVecs * S::kLanes) {
    ChunkScoresOf<S, E, kVecs, true>(qrow, kt, bs, hd, lanes, s);
  } else {
    ChunkScoresOf<S, E, kVecs, false>(qrow, kt, bs, hd, lanes, s);
  }
}

// arow[d] += sum over slots t in [lo, lanes) of p[t] * v[t][d] over the whole vectors of the
// head dimension; returns where the scalar tail starts. Eight vectors of sums, even and odd
// slots apart, keep the FMAs independent (a chain over the slots per vector otherwise).
template <class S, class E>
int64_t AccumulateValues(const float* p, int lo, int lanes, const typename E::T* v, int hd,
                         float* arow) {
  constexpr int L = S::kLanes;
  constexpr int G = 8;
  int64_t d = 0;
  for (; d + G * L <= hd; d += G * L) {
    typename S::V even[G], odd[G];
    for (int g = 0; g < G; ++g) even[g] = S::Load(arow + d + g * L), odd[g] = S::Zero();
    int t = lo;
    for (; t + 1 < lanes; t += 2) {
      const typename S::V p0 = S::Set1(p[t]), p1 = S::Set1(p[t + 1]);
      const typename E::T* v0 = v + static_cast<int64_t>(t) * hd + d;
      for (int g = 0; g < G; ++g) {
        even[g] = S::MulAdd(p0, E::Load(v0 + g * L), even[g]);
        odd[g] = S::MulAdd(p1, E::Load(v0 + hd + g * L), odd[g]);
      }
    }
    if (t < lanes) {
      const typename S::V p0 = S::Set1(p[t]);
      const typename E::T* v0 = v + static_cast<int64_t>(t) * hd + d;
      for (int g = 0; g < G; ++g) even[g] = S::MulAdd(p0, E::Load(v0 + g * L), even[g]);
    }
    for (int g = 0; g < G; ++g) S::Store(arow + d + g * L, S::Add(even[g], odd[g]));
  }
  for (; d + L <= hd; d += L) {
    typename S::V a = S::Load(arow + d);
    for (int t = lo; t < lanes; ++t)
      a = S::MulAdd(S::Set1(p[t]), E::Load(v + static_cast<int64_t>(t) * hd + d), a);
    S::Store(arow + d, a);
  }
  return d;
}

// Paged attention of one tile of queries (see attention.h and dispatch.h): for each K/V
// block, each query row scores chunks of 16 slots (the keys' slot axis is contiguous, so a
// chunk is 16 / kLanes vectors per head dimension), then folds them into its online
// softmax and its accumulator.
template <class S, class E>
void AttendTile(const PagedKvLayer& kv, const AttentionSequence& seq, const AttentionTile& tile,
                const float* q, int64_t ldq, int num_heads, float* out, int64_t ldo, int window,
                float* acc) {
  constexpr int kChunk = 16;
  constexpr int kVecs = kChunk / S::kLanes;
  static_assert(kChunk % S::kLanes == 0);
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  const int hd = kv.head_dim;
  const int bs = kv.block_size;
  const int kv_head = tile.head / (num_heads / kv.num_kv_heads);
  for (int64_t i = 0; i < static_cast<int64_t>(tile.count) * hd; ++i) acc[i] = 0.0f;
  float row_max[kAttentionQueryTile];
  float row_sum[kAttentionQueryTile];
  for (int i = 0; i < tile.count; ++i) row_max[i] = kNegInf, row_sum[i] = 0.0f;

  const int64_t first_pos = seq.start_position + tile.first;
  const int64_t last_pos = first_pos + tile.count - 1;
  const int64_t num_blocks = last_pos / bs + 1;
  // With a window, blocks wholly before the tile's first row's window are skipped.
  const int64_t first_block = window > 0 ? std::max<int64_t>(0, first_pos - window + 1) / bs : 0;
  alignas(64) float scores[kChunk];
  for (int64_t j = first_block; j < num_blocks; ++j) {
    const int64_t block = seq.block_table[j];
    using T = typename E::T;
    const T* kt = static_cast<const T*>(kv.keys) + block * kv.block_stride +
                  static_cast<int64_t>(kv_head) * hd * bs;
    const T* vb = static_cast<const T*>(kv.values) + block * kv.block_stride +
                  static_cast<int64_t>(kv_head) * bs * hd;
    const int64_t block_start = j * bs;
    for (int i = 0; i < tile.count; ++i) {
      const int64_t pos = first_pos + i;
      if (block_start > pos) continue;
      const int valid = static_cast<int>(std::min<int64_t>(bs, pos - block_start + 1));
      // Slots before `skip` fall outside the row's window.
      const int64_t lowest = window > 0 ? pos - window + 1 : 0;
      const int skip = static_cast<int>(std::clamp<int64_t>(lowest - block_start, 0, bs));
      if (skip >= valid) continue;
      const float* qrow = q + (seq.first_row + tile.first + i) * ldq + tile.head * hd;
      float* arow = acc + static_cast<int64_t>(i) * hd;
      for (int c = skip / kChunk * kChunk; c < valid; c += kChunk) {
        const int lanes = std::min(kChunk, valid - c);
        const int lo = std::max(0, skip - c);
        typename S::V s[kVecs];
        ChunkScores<S, E, kVecs>(qrow, kt + c, bs, hd, lanes, s);
        for (int v = 0; v < kVecs; ++v) S::Store(scores + v * S::kLanes, s[v]);
        float chunk_max = kNegInf;
        for (int t = lo; t < lanes; ++t) chunk_max = std::max(chunk_max, scores[t]);
        if (chunk_max > row_max[i]) {
          const float correction = std::exp(row_max[i] - chunk_max);  // exp(-inf) = 0 at first
          row_sum[i] *= correction;
          const typename S::V vc = S::Set1(correction);
          MapRow<S>(arow, hd, [&](typename S::V a, int64_t) { return S::Mul(a, vc); });
          row_max[i] = chunk_max;
        }
        const typename S::V vmax = S::Set1(row_max[i]);
        for (int v = 0; v < kVecs; ++v)
          S::Store(scores + v * S::kLanes, Exp<S>(S::Sub(s[v], vmax)));
        for (int t = lo; t < lanes; ++t) row_sum[i] += scores[t];
        int64_t d =
            AccumulateValues<S, E>(scores, lo, lanes, vb + static_cast<int64_t>(c) * hd, hd, arow);
        for (; d < hd; ++d) {
          for (int t = lo; t < lanes; ++t)
            arow[d] += scores[t] * E::Scalar(vb[static_cast<int64_t>(c + t) * hd + d]);
        }
      }
    }
  }
  for (int i = 0; i < tile.count; ++i) {
    float* orow = out + (seq.first_row + tile.first + i) * ldo + tile.head * hd;
    const float inv = 1.0f / row_sum[i];
    for (int d = 0; d < hd; ++d) orow[d] = acc[static_cast<int64_t>(i) * hd + d] * inv;
  }
}

// The attention entries, for a variant's installers: its vector type and its bfloat16 and
// IEEE half loaders (as simd_gemv16.h takes them).
template <class S, class BF16, class F16>
void FillAttention(AttentionKernels& table) {
  table.attend_tile = AttendTile<S, F32Elements<S>>;
  table.attend_tile_bf16 = AttendTile<S, Kv16Elements<BF16, BFloat16BitsToFloat>>;
  table.attend_tile_f16 = AttendTile<S, Kv16Elements<F16, HalfBitsToFloat>>;
}

}  // namespace lantern::tensor::simd_kernels
