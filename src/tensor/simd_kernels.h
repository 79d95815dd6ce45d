// Kernel bodies written once over a vector type S, instantiated by the portable, AVX2 and
// NEON variants (each folder's vec.h defines its S; internal header): the elementwise
// kernels here, the skinny GEMM in simd_gemv.h, paged attention in simd_attention.h. S
// provides:
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

// The F32 elementwise entries, for a variant's installers.
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

}  // namespace lantern::tensor::simd_kernels
