// Element-wise and row-wise kernels of the transformer layers (F32), parallel over rows on
// the compute pool; each row runs the variant of the CPU's level (dispatch.h).
#pragma once

#include <cstdint>

#include "base/thread_pool.h"

namespace lantern::tensor {

// out[r] = (x[r] - mean) / sqrt(var + eps) * gamma + beta for each of `rows` rows of
// length `dim` (leading dimension `dim`). gamma/beta may be null (no affine
// parameters). `out` may equal `x`.
void LayerNorm(ThreadPool& pool, const float* x, int64_t rows, int64_t dim, const float* gamma,
               const float* beta, float eps, float* out);

// x[r][c] += bias[c] (bias may be null: nothing to do).
void AddBias(ThreadPool& pool, float* x, int64_t rows, int64_t dim, const float* bias);

// x[r][c] = max(0, x[r][c] + bias[c]) (bias may be null).
void BiasRelu(ThreadPool& pool, float* x, int64_t rows, int64_t dim, const float* bias);

// out[r] = x[r] / sqrt(mean(x[r]^2) + eps) * weight for `rows` rows of length `dim`
// (leading dimension `dim`); `out` may equal `x`. Llama's RMSNorm.
void RmsNorm(ThreadPool& pool, const float* x, int64_t rows, int64_t dim, const float* weight,
             float eps, float* out);

// RMSNorm in place over each of `groups` consecutive vectors of length `dim` at the start
// of each row (row stride `ld`), sharing one weight[dim]: Qwen3's per-head q/k norms.
void GroupRmsNormInPlace(ThreadPool& pool, float* x, int64_t rows, int64_t ld, int64_t groups,
                         int64_t dim, const float* weight, float eps);

// out[r][c] = silu(gate_up[r][c]) * gate_up[r][dim + c]: SwiGLU over a fused gate|up
// projection (rows of 2 * dim); out has leading dimension `dim`.
void SiluMul(ThreadPool& pool, const float* gate_up, int64_t rows, int64_t dim, float* out);

// x[r][c] = gelu_tanh(x[r][c] + bias[c]) (bias may be null), the tanh approximation
// HF calls "gelu_new" / "gelu_pytorch_tanh" (GPT-2).
void BiasGeluTanh(ThreadPool& pool, float* x, int64_t rows, int64_t dim, const float* bias);

// x[i] += y[i].
void AddInPlace(ThreadPool& pool, float* x, const float* y, int64_t n);

// Softmax of each row in place (max-subtracted, exact exp up to ~1e-7 relative).
void SoftmaxRows(ThreadPool& pool, float* x, int64_t rows, int64_t dim);

// Numeric conversions of checkpoint weights to F32.
void HalfToFloat(const uint16_t* in, float* out, int64_t n);
void BFloat16ToFloat(const uint16_t* in, float* out, int64_t n);

// out[c][r] = in[r][c] for an in[rows][cols] matrix (row-major), parallel.
void Transpose(ThreadPool& pool, const float* in, int64_t rows, int64_t cols, float* out);

}  // namespace lantern::tensor
