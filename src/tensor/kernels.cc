#include "tensor/kernels.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tensor/simd.h"

namespace lantern::tensor {
namespace {

// Rows per parallel task: enough work to amortize the hand-off (a few microseconds).
int64_t RowGrain(int64_t dim) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(dim, 1)); }

void LayerNormRow(const float* x, int64_t dim, const float* gamma, const float* beta, float eps,
                  float* out) {
  // Two passes in double-free F32 with 16 lanes: mean, then centred variance (stable).
  __m512 sum = _mm512_setzero_ps();
  int64_t c = 0;
  for (; c + 16 <= dim; c += 16) sum = _mm512_add_ps(sum, _mm512_loadu_ps(x + c));
  float total = _mm512_reduce_add_ps(sum);
  for (; c < dim; ++c) total += x[c];
  const float mean = total / static_cast<float>(dim);
  const __m512 vmean = _mm512_set1_ps(mean);
  __m512 sq = _mm512_setzero_ps();
  for (c = 0; c + 16 <= dim; c += 16) {
    __m512 d = _mm512_sub_ps(_mm512_loadu_ps(x + c), vmean);
    sq = _mm512_fmadd_ps(d, d, sq);
  }
  float var = _mm512_reduce_add_ps(sq);
  for (; c < dim; ++c) var += (x[c] - mean) * (x[c] - mean);
  var /= static_cast<float>(dim);
  const float inv = 1.0f / std::sqrt(var + eps);
  const __m512 vinv = _mm512_set1_ps(inv);
  for (c = 0; c + 16 <= dim; c += 16) {
    __m512 y = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x + c), vmean), vinv);
    if (gamma != nullptr) y = _mm512_mul_ps(y, _mm512_loadu_ps(gamma + c));
    if (beta != nullptr) y = _mm512_add_ps(y, _mm512_loadu_ps(beta + c));
    _mm512_storeu_ps(out + c, y);
  }
  for (; c < dim; ++c) {
    float y = (x[c] - mean) * inv;
    if (gamma != nullptr) y *= gamma[c];
    if (beta != nullptr) y += beta[c];
    out[c] = y;
  }
}

}  // namespace

void LayerNorm(ThreadPool& pool, const float* x, int64_t rows, int64_t dim, const float* gamma,
               const float* beta, float eps, float* out) {
  pool.ParallelFor(rows, RowGrain(dim), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      LayerNormRow(x + r * dim, dim, gamma, beta, eps, out + r * dim);
    }
  });
}

void AddBias(ThreadPool& pool, float* x, int64_t rows, int64_t dim, const float* bias) {
  if (bias == nullptr) return;
  pool.ParallelFor(rows, RowGrain(dim), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      float* row = x + r * dim;
      int64_t c = 0;
      for (; c + 16 <= dim; c += 16) {
        _mm512_storeu_ps(row + c,
                         _mm512_add_ps(_mm512_loadu_ps(row + c), _mm512_loadu_ps(bias + c)));
      }
      for (; c < dim; ++c) row[c] += bias[c];
    }
  });
}

void BiasRelu(ThreadPool& pool, float* x, int64_t rows, int64_t dim, const float* bias) {
  pool.ParallelFor(rows, RowGrain(dim), [&](int64_t begin, int64_t end) {
    const __m512 zero = _mm512_setzero_ps();
    for (int64_t r = begin; r < end; ++r) {
      float* row = x + r * dim;
      int64_t c = 0;
      for (; c + 16 <= dim; c += 16) {
        __m512 v = _mm512_loadu_ps(row + c);
        if (bias != nullptr) v = _mm512_add_ps(v, _mm512_loadu_ps(bias + c));
        _mm512_storeu_ps(row + c, _mm512_max_ps(v, zero));
      }
      for (; c < dim; ++c) row[c] = std::max(0.0f, row[c] + (bias != nullptr ? bias[c] : 0.0f));
    }
  });
}

namespace {

void RmsNormRow(const float* x, int64_t dim, const float* weight, float eps, float* out) {
  __m512 sq = _mm512_setzero_ps();
  for (int64_t c = 0; c < dim; c += 16) {
    const __mmask16 m = simd::FirstLanes(static_cast<int>(std::min<int64_t>(16, dim - c)));
    const __m512 v = _mm512_maskz_loadu_ps(m, x + c);
    sq = _mm512_fmadd_ps(v, v, sq);
  }
  const float inv = 1.0f / std::sqrt(_mm512_reduce_add_ps(sq) / static_cast<float>(dim) + eps);
  const __m512 vinv = _mm512_set1_ps(inv);
  for (int64_t c = 0; c < dim; c += 16) {
    const __mmask16 m = simd::FirstLanes(static_cast<int>(std::min<int64_t>(16, dim - c)));
    __m512 y = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + c), vinv);
    if (weight != nullptr) y = _mm512_mul_ps(y, _mm512_maskz_loadu_ps(m, weight + c));
    _mm512_mask_storeu_ps(out + c, m, y);
  }
}

// x * sigmoid(x) = x / (1 + e^-x).
inline __m512 Silu(__m512 x) {
  const __m512 e = simd::Exp(_mm512_sub_ps(_mm512_setzero_ps(), x));
  return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), tanh(u) = 1 - 2 / (e^2u + 1).
inline __m512 GeluTanh(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
  const __m512 u = _mm512_mul_ps(_mm512_set1_ps(0.7978845608028654f),
                                 _mm512_fmadd_ps(_mm512_set1_ps(0.044715f), x3, x));
  const __m512 e = simd::Exp(_mm512_add_ps(u, u));
  const __m512 t = _mm512_sub_ps(one, _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, one)));
  return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), _mm512_add_ps(one, t));
}

}  // namespace

void RmsNorm(ThreadPool& pool, const float* x, int64_t rows, int64_t dim, const float* weight,
             float eps, float* out) {
  pool.ParallelFor(rows, RowGrain(dim), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) RmsNormRow(x + r * dim, dim, weight, eps, out + r * dim);
  });
}

void GroupRmsNormInPlace(ThreadPool& pool, float* x, int64_t rows, int64_t ld, int64_t groups,
                         int64_t dim, const float* weight, float eps) {
  pool.ParallelFor(rows, RowGrain(groups * dim), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      for (int64_t g = 0; g < groups; ++g) {
        float* v = x + r * ld + g * dim;
        RmsNormRow(v, dim, weight, eps, v);
      }
    }
  });
}

void SiluMul(ThreadPool& pool, const float* gate_up, int64_t rows, int64_t dim, float* out) {
  pool.ParallelFor(rows, RowGrain(dim), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* g = gate_up + r * 2 * dim;
      const float* u = g + dim;
      float* o = out + r * dim;
      for (int64_t c = 0; c < dim; c += 16) {
        const __mmask16 m = simd::FirstLanes(static_cast<int>(std::min<int64_t>(16, dim - c)));
        const __m512 y =
            _mm512_mul_ps(Silu(_mm512_maskz_loadu_ps(m, g + c)), _mm512_maskz_loadu_ps(m, u + c));
        _mm512_mask_storeu_ps(o + c, m, y);
      }
    }
  });
}

void BiasGeluTanh(ThreadPool& pool, float* x, int64_t rows, int64_t dim, const float* bias) {
  pool.ParallelFor(rows, RowGrain(dim), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      float* row = x + r * dim;
      for (int64_t c = 0; c < dim; c += 16) {
        const __mmask16 m = simd::FirstLanes(static_cast<int>(std::min<int64_t>(16, dim - c)));
        __m512 v = _mm512_maskz_loadu_ps(m, row + c);
        if (bias != nullptr) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, bias + c));
        _mm512_mask_storeu_ps(row + c, m, GeluTanh(v));
      }
    }
  });
}

void AddInPlace(ThreadPool& pool, float* x, const float* y, int64_t n) {
  pool.ParallelFor(n, 1 << 14, [&](int64_t begin, int64_t end) {
    int64_t i = begin;
    for (; i + 16 <= end; i += 16) {
      _mm512_storeu_ps(x + i, _mm512_add_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
    }
    for (; i < end; ++i) x[i] += y[i];
  });
}

void SoftmaxRows(ThreadPool& pool, float* x, int64_t rows, int64_t dim) {
  pool.ParallelFor(rows, RowGrain(dim), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      float* row = x + r * dim;
      __m512 vmax = _mm512_set1_ps(-INFINITY);
      for (int64_t c = 0; c < dim; c += 16) {
        __mmask16 m = simd::FirstLanes(static_cast<int>(std::min<int64_t>(16, dim - c)));
        vmax = _mm512_mask_max_ps(vmax, m, vmax, _mm512_maskz_loadu_ps(m, row + c));
      }
      const __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
      __m512 vsum = _mm512_setzero_ps();
      for (int64_t c = 0; c < dim; c += 16) {
        __mmask16 m = simd::FirstLanes(static_cast<int>(std::min<int64_t>(16, dim - c)));
        __m512 e = simd::Exp(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, row + c), mx));
        vsum = _mm512_mask_add_ps(vsum, m, vsum, e);
        _mm512_mask_storeu_ps(row + c, m, e);
      }
      const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(vsum));
      for (int64_t c = 0; c < dim; c += 16) {
        __mmask16 m = simd::FirstLanes(static_cast<int>(std::min<int64_t>(16, dim - c)));
        _mm512_mask_storeu_ps(row + c, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, row + c), inv));
      }
    }
  });
}

void HalfToFloat(const uint16_t* in, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i));
    _mm512_storeu_ps(out + i, _mm512_cvtph_ps(h));
  }
  for (; i < n; ++i) out[i] = _cvtsh_ss(in[i]);
}

void BFloat16ToFloat(const uint16_t* in, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint32_t bits = static_cast<uint32_t>(in[i]) << 16;
    std::memcpy(out + i, &bits, sizeof(bits));
  }
}

void Transpose(ThreadPool& pool, const float* in, int64_t rows, int64_t cols, float* out) {
  constexpr int64_t kTile = 32;
  const int64_t row_tiles = (rows + kTile - 1) / kTile;
  pool.ParallelFor(row_tiles, 4, [&](int64_t begin, int64_t end) {
    for (int64_t rt = begin; rt < end; ++rt) {
      const int64_t r0 = rt * kTile, r1 = std::min(rows, r0 + kTile);
      for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
        const int64_t c1 = std::min(cols, c0 + kTile);
        for (int64_t r = r0; r < r1; ++r) {
          for (int64_t c = c0; c < c1; ++c) out[c * rows + r] = in[r * cols + c];
        }
      }
    }
  });
}

}  // namespace lantern::tensor
