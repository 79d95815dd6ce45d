// Kernel bodies written once over a vector type S, instantiated by the portable, AVX2 and
// NEON variants (each folder's vec.h defines its S; internal header). S provides:
//   V, kLanes, Zero, Set1, Load, Store, LoadPartial (lanes >= n read as 0, nothing read
//   past p + n), StorePartial, Add, Sub, Mul, Div, Max, MulAdd(a, b, c) = a * b + c,
//   Round (to nearest), Pow2 (2^n for integral n in [-126, 127]), ReduceAdd, ReduceMax.
// Include it only from a variant's .cc and instantiate it only with that file's own S,
// declared in an anonymous namespace: instantiations then have internal linkage, so the
// linker can never hand one variant's code (and target flags) to another. The bodies
// avoid out-of-line standard templates (std::fill, containers) for the same reason.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "tensor/dispatch.h"

namespace lantern::tensor::simd_kernels {

// e^x: range reduction to r in [-ln2/2, ln2/2], degree-6 polynomial, scaling by 2^n.
// Relative error below 4e-7 for x in [-87, 88]; smaller inputs give (nearly) 0.
template <class S>
inline typename S::V Exp(typename S::V x) {
  x = S::Max(x, S::Set1(-87.0f));
  x = S::Min(x, S::Set1(88.0f));
  const typename S::V n = S::Round(S::Mul(x, S::Set1(1.44269504088896341f)));
  typename S::V r = S::Sub(x, S::Mul(n, S::Set1(0.693359375f)));
  r = S::Sub(r, S::Mul(n, S::Set1(-2.12194440e-4f)));
  typename S::V p = S::Set1(1.0f / 720);
  p = S::MulAdd(p, r, S::Set1(1.0f / 120));
  p = S::MulAdd(p, r, S::Set1(1.0f / 24));
  p = S::MulAdd(p, r, S::Set1(1.0f / 6));
  p = S::MulAdd(p, r, S::Set1(0.5f));
  p = S::MulAdd(p, r, S::Set1(1.0f));
  p = S::MulAdd(p, r, S::Set1(1.0f));
  return S::Mul(p, S::Pow2(n));
}

// Applies op(v) -> v over row[0, dim) in place, the tail through a partial vector.
template <class S, class Op>
inline void MapRow(float* row, int64_t dim, Op op) {
  int64_t c = 0;
  for (; c + S::kLanes <= dim; c += S::kLanes) S::Store(row + c, op(S::Load(row + c), c));
  if (c < dim) {
    const int n = static_cast<int>(dim - c);
    S::StorePartial(row + c, op(S::LoadPartial(row + c, n), c), n);
  }
}

template <class S>
inline typename S::V LoadOrZero(const float* p, int64_t c, int64_t dim) {
  return c + S::kLanes <= dim ? S::Load(p + c) : S::LoadPartial(p + c, static_cast<int>(dim - c));
}

template <class S>
void LayerNormRow(const float* x, int64_t dim, const float* gamma, const float* beta, float eps,
                  float* out) {
  // Two passes: the mean, then the centred variance (stable); tails read as zeros.
  typename S::V sum = S::Zero();
  for (int64_t c = 0; c < dim; c += S::kLanes) sum = S::Add(sum, LoadOrZero<S>(x, c, dim));
  const float mean = S::ReduceAdd(sum) / static_cast<float>(dim);
  const typename S::V vmean = S::Set1(mean);
  typename S::V sq = S::Zero();
  int64_t c = 0;
  for (; c + S::kLanes <= dim; c += S::kLanes) {
    const typename S::V d = S::Sub(S::Load(x + c), vmean);
    sq = S::MulAdd(d, d, sq);
  }
  float var = S::ReduceAdd(sq);
  for (; c < dim; ++c) var += (x[c] - mean) * (x[c] - mean);
  var /= static_cast<float>(dim);
  const typename S::V vinv = S::Set1(1.0f / std::sqrt(var + eps));
  if (out != x) std::memmove(out, x, static_cast<size_t>(dim) * sizeof(float));
  MapRow<S>(out, dim, [&](typename S::V v, int64_t at) {
    typename S::V y = S::Mul(S::Sub(v, vmean), vinv);
    if (gamma != nullptr) y = S::Mul(y, LoadOrZero<S>(gamma, at, dim));
    if (beta != nullptr) y = S::Add(y, LoadOrZero<S>(beta, at, dim));
    return y;
  });
}

template <class S>
void RmsNormRow(const float* x, int64_t dim, const float* weight, float eps, float* out) {
  typename S::V sq = S::Zero();
  for (int64_t c = 0; c < dim; c += S::kLanes) {
    const typename S::V v = LoadOrZero<S>(x, c, dim);
    sq = S::MulAdd(v, v, sq);
  }
  const typename S::V vinv =
      S::Set1(1.0f / std::sqrt(S::ReduceAdd(sq) / static_cast<float>(dim) + eps));
  if (out != x) std::memmove(out, x, static_cast<size_t>(dim) * sizeof(float));
  MapRow<S>(out, dim, [&](typename S::V v, int64_t at) {
    typename S::V y = S::Mul(v, vinv);
    return weight != nullptr ? S::Mul(y, LoadOrZero<S>(weight, at, dim)) : y;
  });
}

template <class S>
void AddBiasRow(float* row, int64_t dim, const float* bias) {
  MapRow<S>(row, dim,
            [&](typename S::V v, int64_t at) { return S::Add(v, LoadOrZero<S>(bias, at, dim)); });
}

template <class S>
void BiasReluRow(float* row, int64_t dim, const float* bias) {
  MapRow<S>(row, dim, [&](typename S::V v, int64_t at) {
    if (bias != nullptr) v = S::Add(v, LoadOrZero<S>(bias, at, dim));
    return S::Max(v, S::Zero());
  });
}

// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), tanh(u) = 1 - 2 / (e^2u + 1).
template <class S>
void BiasGeluTanhRow(float* row, int64_t dim, const float* bias) {
  MapRow<S>(row, dim, [&](typename S::V x, int64_t at) {
    if (bias != nullptr) x = S::Add(x, LoadOrZero<S>(bias, at, dim));
    const typename S::V one = S::Set1(1.0f);
    const typename S::V x3 = S::Mul(S::Mul(x, x), x);
    const typename S::V u =
        S::Mul(S::Set1(0.7978845608028654f), S::MulAdd(S::Set1(0.044715f), x3, x));
    const typename S::V e = Exp<S>(S::Add(u, u));
    const typename S::V t = S::Sub(one, S::Div(S::Set1(2.0f), S::Add(e, one)));
    return S::Mul(S::Mul(S::Set1(0.5f), x), S::Add(one, t));
  });
}

// silu(g) * u with silu(x) = x / (1 + e^-x).
template <class S>
void SiluMulRow(const float* gate, const float* up, int64_t dim, float* out) {
  if (out != gate) std::memmove(out, gate, static_cast<size_t>(dim) * sizeof(float));
  MapRow<S>(out, dim, [&](typename S::V g, int64_t at) {
    const typename S::V e = Exp<S>(S::Sub(S::Zero(), g));
    return S::Mul(S::Div(g, S::Add(S::Set1(1.0f), e)), LoadOrZero<S>(up, at, dim));
  });
}

template <class S>
void SoftmaxRow(float* row, int64_t dim) {
  float mx = -std::numeric_limits<float>::infinity();
  int64_t c = 0;
  if (dim >= S::kLanes) {
    typename S::V vmax = S::Load(row);
    for (c = S::kLanes; c + S::kLanes <= dim; c += S::kLanes) vmax = S::Max(vmax, S::Load(row + c));
    mx = S::ReduceMax(vmax);
  }
  for (; c < dim; ++c) mx = std::max(mx, row[c]);
  const typename S::V vmx = S::Set1(mx);
  typename S::V vsum = S::Zero();
  for (c = 0; c + S::kLanes <= dim; c += S::kLanes) {
    const typename S::V e = Exp<S>(S::Sub(S::Load(row + c), vmx));
    vsum = S::Add(vsum, e);
    S::Store(row + c, e);
  }
  float sum = S::ReduceAdd(vsum);
  if (c < dim) {
    const int n = static_cast<int>(dim - c);
    float tail[S::kLanes] = {};
    S::Store(tail, Exp<S>(S::Sub(S::LoadPartial(row + c, n), vmx)));
    for (int i = 0; i < n; ++i) sum += tail[i];
    std::memcpy(row + c, tail, static_cast<size_t>(n) * sizeof(float));
  }
  const typename S::V inv = S::Set1(1.0f / sum);
  MapRow<S>(row, dim, [&](typename S::V v, int64_t) { return S::Mul(v, inv); });
}

template <class S>
void Add(float* x, const float* y, int64_t n) {
  MapRow<S>(x, n, [&](typename S::V v, int64_t at) { return S::Add(v, LoadOrZero<S>(y, at, n)); });
}

template <class S>
void RopeRow(float* row, int heads, int head_dim, const float* cos, const float* sin, float mul) {
  const int half = head_dim / 2;
  const typename S::V vm = S::Set1(mul);
  for (int h = 0; h < heads; ++h) {
    float* x1 = row + static_cast<int64_t>(h) * head_dim;
    float* x2 = x1 + half;
    for (int i = 0; i < half; i += S::kLanes) {
      const int n = std::min(S::kLanes, half - i);
      const bool full = n == S::kLanes;
      const typename S::V a = full ? S::Load(x1 + i) : S::LoadPartial(x1 + i, n);
      const typename S::V b = full ? S::Load(x2 + i) : S::LoadPartial(x2 + i, n);
      const typename S::V vc = full ? S::Load(cos + i) : S::LoadPartial(cos + i, n);
      const typename S::V vs = full ? S::Load(sin + i) : S::LoadPartial(sin + i, n);
      const typename S::V y1 = S::Mul(S::Sub(S::Mul(a, vc), S::Mul(b, vs)), vm);
      const typename S::V y2 = S::Mul(S::MulAdd(b, vc, S::Mul(a, vs)), vm);
      if (full) {
        S::Store(x1 + i, y1);
        S::Store(x2 + i, y2);
      } else {
        S::StorePartial(x1 + i, y1, n);
        S::StorePartial(x2 + i, y2, n);
      }
    }
  }
}

// Skinny GEMM (see gemv.h): columns [n0, n1) for weight rows [k0, k1), M rows of A, with
// tiles of NV vectors of columns whose M x NV partial sums stay in registers.
template <class S, int M, int NV>
void GemvBlock(int64_t n0, int64_t n1, int64_t k0, int64_t k1, const float* a, int64_t lda,
               const float* b, int64_t ldb, float* c, int64_t ldc, bool load_c) {
  constexpr int L = S::kLanes;
  constexpr int64_t kAhead = 256;  // software prefetch distance along a weight row, in floats
  int64_t j = n0;
  for (; j + NV * L <= n1; j += NV * L) {
    typename S::V acc[M][NV];
    for (int r = 0; r < M; ++r) {
      for (int v = 0; v < NV; ++v)
        acc[r][v] = load_c ? S::Load(c + r * ldc + j + v * L) : S::Zero();
    }
    for (int64_t p = k0; p < k1; ++p) {
      const float* w = b + p * ldb + j;
      for (int v = 0; v < NV * L; v += 16) __builtin_prefetch(w + kAhead + v);
      typename S::V wv[NV];
      for (int v = 0; v < NV; ++v) wv[v] = S::Load(w + v * L);
      for (int r = 0; r < M; ++r) {
        const typename S::V x = S::Set1(a[r * lda + p]);
        for (int v = 0; v < NV; ++v) acc[r][v] = S::MulAdd(x, wv[v], acc[r][v]);
      }
    }
    for (int r = 0; r < M; ++r) {
      for (int v = 0; v < NV; ++v) S::Store(c + r * ldc + j + v * L, acc[r][v]);
    }
  }
  for (; j < n1; j += L) {
    const int n = static_cast<int>(std::min<int64_t>(L, n1 - j));
    typename S::V acc[M];
    for (int r = 0; r < M; ++r) acc[r] = load_c ? S::LoadPartial(c + r * ldc + j, n) : S::Zero();
    for (int64_t p = k0; p < k1; ++p) {
      const typename S::V w = S::LoadPartial(b + p * ldb + j, n);
      for (int r = 0; r < M; ++r) acc[r] = S::MulAdd(S::Set1(a[r * lda + p]), w, acc[r]);
    }
    for (int r = 0; r < M; ++r) S::StorePartial(c + r * ldc + j, acc[r], n);
  }
}

// Weight rows per block: enough that the partial sums' round trip through L1 is a small
// share of the loads, few enough that the block's streams stay within what the L2
// streamer tracks.
inline constexpr int64_t kGemvBlockRows = 16;

// The generic tiles as a GEMV block kernel B (see GemvColumns).
template <class S>
struct GemvTiles {
  template <int M>
  static void Block(int64_t n0, int64_t n1, int64_t k0, int64_t k1, const float* a, int64_t lda,
                    const float* b, int64_t ldb, float* c, int64_t ldc, bool load_c) {
    GemvBlock<S, M, S::GemvVectors(M)>(n0, n1, k0, k1, a, lda, b, ldb, c, ldc, load_c);
  }
};

template <class B, int M>
void GemvRows(int64_t n0, int64_t n1, int64_t k, const float* a, int64_t lda, const float* b,
              int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  for (int64_t k0 = 0; k0 < k; k0 += kGemvBlockRows) {
    B::template Block<M>(n0, n1, k0, std::min(k, k0 + kGemvBlockRows), a, lda, b, ldb, c, ldc,
                         accumulate || k0 > 0);
  }
}

// The skinny GEMM of one thread's columns [n0, n1), rows of A four at a time, over weight
// blocks of kGemvBlockRows rows. B::Block<M> computes one block for M rows.
template <class B>
void GemvColumns(int64_t m, int64_t n0, int64_t n1, int64_t k, const float* a, int64_t lda,
                 const float* b, int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  if (k == 0) {
    if (!accumulate) {
      for (int64_t r = 0; r < m; ++r) {
        for (int64_t j = n0; j < n1; ++j) c[r * ldc + j] = 0.0f;
      }
    }
    return;
  }
  for (int64_t r = 0; r < m; r += 4) {
    const float* ar = a + r * lda;
    float* cr = c + r * ldc;
    switch (std::min<int64_t>(4, m - r)) {
      case 1:
        GemvRows<B, 1>(n0, n1, k, ar, lda, b, ldb, cr, ldc, accumulate);
        break;
      case 2:
        GemvRows<B, 2>(n0, n1, k, ar, lda, b, ldb, cr, ldc, accumulate);
        break;
      case 3:
        GemvRows<B, 3>(n0, n1, k, ar, lda, b, ldb, cr, ldc, accumulate);
        break;
      default:
        GemvRows<B, 4>(n0, n1, k, ar, lda, b, ldb, cr, ldc, accumulate);
        break;
    }
  }
}

// Paged attention of one tile of queries (see attention.h and dispatch.h): for each K/V
// block, each query row scores chunks of 16 slots (the keys' slot axis is contiguous, so a
// chunk is 16 / kLanes vectors per head dimension), then folds them into its online
// softmax and its accumulator.
template <class S>
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
    const float* kt = kv.keys + block * kv.block_stride + static_cast<int64_t>(kv_head) * hd * bs;
    const float* vb = kv.values + block * kv.block_stride + static_cast<int64_t>(kv_head) * bs * hd;
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
        for (int v = 0; v < kVecs; ++v) s[v] = S::Zero();
        for (int d = 0; d < hd; ++d) {
          const typename S::V qd = S::Set1(qrow[d]);
          const float* krow = kt + static_cast<int64_t>(d) * bs + c;
          for (int v = 0; v < kVecs; ++v) {
            const int n = std::clamp(lanes - v * S::kLanes, 0, S::kLanes);
            if (n == 0) break;
            const typename S::V k = n == S::kLanes ? S::Load(krow + v * S::kLanes)
                                                   : S::LoadPartial(krow + v * S::kLanes, n);
            s[v] = S::MulAdd(qd, k, s[v]);
          }
        }
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
        int64_t d = 0;
        for (; d + S::kLanes <= hd; d += S::kLanes) {
          typename S::V a = S::Load(arow + d);
          for (int t = lo; t < lanes; ++t) {
            a = S::MulAdd(S::Set1(scores[t]), S::Load(vb + static_cast<int64_t>(c + t) * hd + d),
                          a);
          }
          S::Store(arow + d, a);
        }
        for (; d < hd; ++d) {
          for (int t = lo; t < lanes; ++t)
            arow[d] += scores[t] * vb[static_cast<int64_t>(c + t) * hd + d];
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

// The F32 entries of each family, for a variant's installers.
template <class S>
void FillElementwise(ElementwiseKernels& table) {
  table.layer_norm_row = LayerNormRow<S>;
  table.rms_norm_row = RmsNormRow<S>;
  table.add_bias_row = AddBiasRow<S>;
  table.bias_relu_row = BiasReluRow<S>;
  table.bias_gelu_tanh_row = BiasGeluTanhRow<S>;
  table.silu_mul_row = SiluMulRow<S>;
  table.softmax_row = SoftmaxRow<S>;
  table.add = Add<S>;
  table.rope_row = RopeRow<S>;
}

template <class S>
void FillGemv(GemvKernels& table) {
  table.columns = GemvColumns<GemvTiles<S>>;
}

template <class S>
void FillAttention(AttentionKernels& table) {
  table.attend_tile = AttendTile<S>;
}

}  // namespace lantern::tensor::simd_kernels
