// The AVX-512 variant of the row kernels: 16 lanes, tails through lane masks.
#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "tensor/dispatch.h"
#include "tensor/x86/avx512/simd.h"

namespace lantern::tensor::avx512 {
namespace {

__mmask16 TailMask(int64_t dim, int64_t c) {
  return FirstLanes(static_cast<int>(std::min<int64_t>(16, dim - c)));
}

void LayerNormRow(const float* x, int64_t dim, const float* gamma, const float* beta, float eps,
                  float* out) {
  // Two passes in F32 with 16 lanes: mean, then centred variance (stable).
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

void RmsNormRow(const float* x, int64_t dim, const float* weight, float eps, float* out) {
  __m512 sq = _mm512_setzero_ps();
  for (int64_t c = 0; c < dim; c += 16) {
    const __m512 v = _mm512_maskz_loadu_ps(TailMask(dim, c), x + c);
    sq = _mm512_fmadd_ps(v, v, sq);
  }
  const float inv = 1.0f / std::sqrt(_mm512_reduce_add_ps(sq) / static_cast<float>(dim) + eps);
  const __m512 vinv = _mm512_set1_ps(inv);
  for (int64_t c = 0; c < dim; c += 16) {
    const __mmask16 m = TailMask(dim, c);
    __m512 y = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + c), vinv);
    if (weight != nullptr) y = _mm512_mul_ps(y, _mm512_maskz_loadu_ps(m, weight + c));
    _mm512_mask_storeu_ps(out + c, m, y);
  }
}

void AddBiasRow(float* row, int64_t dim, const float* bias) {
  for (int64_t c = 0; c < dim; c += 16) {
    const __mmask16 m = TailMask(dim, c);
    _mm512_mask_storeu_ps(
        row + c, m,
        _mm512_add_ps(_mm512_maskz_loadu_ps(m, row + c), _mm512_maskz_loadu_ps(m, bias + c)));
  }
}

void BiasReluRow(float* row, int64_t dim, const float* bias) {
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t c = 0; c < dim; c += 16) {
    const __mmask16 m = TailMask(dim, c);
    __m512 v = _mm512_maskz_loadu_ps(m, row + c);
    if (bias != nullptr) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, bias + c));
    _mm512_mask_storeu_ps(row + c, m, _mm512_max_ps(v, zero));
  }
}

// x * sigmoid(x) = x / (1 + e^-x).
inline __m512 Silu(__m512 x) {
  const __m512 e = Exp(_mm512_sub_ps(_mm512_setzero_ps(), x));
  return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), tanh(u) = 1 - 2 / (e^2u + 1).
inline __m512 GeluTanh(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
  const __m512 u = _mm512_mul_ps(_mm512_set1_ps(0.7978845608028654f),
                                 _mm512_fmadd_ps(_mm512_set1_ps(0.044715f), x3, x));
  const __m512 e = Exp(_mm512_add_ps(u, u));
  const __m512 t = _mm512_sub_ps(one, _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, one)));
  return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), _mm512_add_ps(one, t));
}

void SiluMulRow(const float* gate, const float* up, int64_t dim, float* out) {
  for (int64_t c = 0; c < dim; c += 16) {
    const __mmask16 m = TailMask(dim, c);
    const __m512 y =
        _mm512_mul_ps(Silu(_mm512_maskz_loadu_ps(m, gate + c)), _mm512_maskz_loadu_ps(m, up + c));
    _mm512_mask_storeu_ps(out + c, m, y);
  }
}

void BiasGeluTanhRow(float* row, int64_t dim, const float* bias) {
  for (int64_t c = 0; c < dim; c += 16) {
    const __mmask16 m = TailMask(dim, c);
    __m512 v = _mm512_maskz_loadu_ps(m, row + c);
    if (bias != nullptr) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(m, bias + c));
    _mm512_mask_storeu_ps(row + c, m, GeluTanh(v));
  }
}

void AddArrays(float* x, const float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm512_storeu_ps(x + i, _mm512_add_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
  }
  for (; i < n; ++i) x[i] += y[i];
}

void SoftmaxRow(float* row, int64_t dim) {
  __m512 vmax = _mm512_set1_ps(-INFINITY);
  for (int64_t c = 0; c < dim; c += 16) {
    const __mmask16 m = TailMask(dim, c);
    vmax = _mm512_mask_max_ps(vmax, m, vmax, _mm512_maskz_loadu_ps(m, row + c));
  }
  const __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
  __m512 vsum = _mm512_setzero_ps();
  for (int64_t c = 0; c < dim; c += 16) {
    const __mmask16 m = TailMask(dim, c);
    __m512 e = Exp(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, row + c), mx));
    vsum = _mm512_mask_add_ps(vsum, m, vsum, e);
    _mm512_mask_storeu_ps(row + c, m, e);
  }
  const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(vsum));
  for (int64_t c = 0; c < dim; c += 16) {
    const __mmask16 m = TailMask(dim, c);
    _mm512_mask_storeu_ps(row + c, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, row + c), inv));
  }
}

void RopeRow(float* row, int heads, int head_dim, const float* cos, const float* sin, float mul) {
  const int half = head_dim / 2;
  const __m512 vm = _mm512_set1_ps(mul);
  for (int h = 0; h < heads; ++h) {
    float* x1 = row + static_cast<int64_t>(h) * head_dim;
    float* x2 = x1 + half;
    for (int i = 0; i < half; i += 16) {
      const __mmask16 m = FirstLanes(half - i);
      const __m512 a = _mm512_maskz_loadu_ps(m, x1 + i);
      const __m512 b = _mm512_maskz_loadu_ps(m, x2 + i);
      const __m512 vc = _mm512_maskz_loadu_ps(m, cos + i);
      const __m512 vs = _mm512_maskz_loadu_ps(m, sin + i);
      const __m512 y1 = _mm512_fmsub_ps(a, vc, _mm512_mul_ps(b, vs));
      const __m512 y2 = _mm512_fmadd_ps(b, vc, _mm512_mul_ps(a, vs));
      _mm512_mask_storeu_ps(x1 + i, m, _mm512_mul_ps(y1, vm));
      _mm512_mask_storeu_ps(x2 + i, m, _mm512_mul_ps(y2, vm));
    }
  }
}

void HalfToFloat(const uint16_t* in, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i));
    _mm512_storeu_ps(out + i, _mm512_cvtph_ps(h));
  }
  for (; i < n; ++i) out[i] = _cvtsh_ss(in[i]);
}

}  // namespace

void InstallElementwise(ElementwiseKernels& table) {
  table.layer_norm_row = LayerNormRow;
  table.rms_norm_row = RmsNormRow;
  table.add_bias_row = AddBiasRow;
  table.bias_relu_row = BiasReluRow;
  table.bias_gelu_tanh_row = BiasGeluTanhRow;
  table.silu_mul_row = SiluMulRow;
  table.softmax_row = SoftmaxRow;
  table.add = AddArrays;
  table.rope_row = RopeRow;
  table.half_to_float = HalfToFloat;
}

}  // namespace lantern::tensor::avx512
