#include "tensor/kernels.h"

#include <algorithm>

#include "tensor/dispatch.h"

namespace lantern::tensor {
namespace {

// Rows per parallel task: enough work to amortize the hand-off (a few microseconds).
int64_t RowGrain(int64_t dim) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(dim, 1)); }

const ElementwiseKernels& Table() { return Kernels().elementwise; }

}  // namespace

void LayerNorm(ThreadPool& pool, const float* x, int64_t rows, int64_t dim, const float* gamma,
               const float* beta, float eps, float* out) {
  const auto row_kernel = Table().layer_norm_row;
  pool.ParallelFor(rows, RowGrain(dim), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      row_kernel(x + r * dim, dim, gamma, beta, eps, out + r * dim);
    }
  });
}

void AddBias(ThreadPool& pool, float* x, int64_t rows, int64_t dim, const float* bias) {
  if (bias == nullptr) return;
  const auto row_kernel = Table().add_bias_row;
  pool.ParallelFor(rows, RowGrain(dim), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) row_kernel(x + r * dim, dim, bias);
  });
}

void BiasRelu(ThreadPool& pool, float* x, int64_t rows, int64_t dim, const float* bias) {
  const auto row_kernel = Table().bias_relu_row;
  pool.ParallelFor(rows, RowGrain(dim), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) row_kernel(x + r * dim, dim, bias);
  });
}

void RmsNorm(ThreadPool& pool, const float* x, int64_t rows, int64_t dim, const float* weight,
             float eps, float* out) {
  const auto row_kernel = Table().rms_norm_row;
  pool.ParallelFor(rows, RowGrain(dim), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) row_kernel(x + r * dim, dim, weight, eps, out + r * dim);
  });
}

void GroupRmsNormInPlace(ThreadPool& pool, float* x, int64_t rows, int64_t ld, int64_t groups,
                         int64_t dim, const float* weight, float eps) {
  const auto row_kernel = Table().rms_norm_row;
  pool.ParallelFor(rows, RowGrain(groups * dim), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      for (int64_t g = 0; g < groups; ++g) {
        float* v = x + r * ld + g * dim;
        row_kernel(v, dim, weight, eps, v);
      }
    }
  });
}

void SiluMul(ThreadPool& pool, const float* gate_up, int64_t rows, int64_t dim, float* out) {
  const auto row_kernel = Table().silu_mul_row;
  pool.ParallelFor(rows, RowGrain(dim), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const float* gate = gate_up + r * 2 * dim;
      row_kernel(gate, gate + dim, dim, out + r * dim);
    }
  });
}

void BiasGeluTanh(ThreadPool& pool, float* x, int64_t rows, int64_t dim, const float* bias) {
  const auto row_kernel = Table().bias_gelu_tanh_row;
  pool.ParallelFor(rows, RowGrain(dim), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) row_kernel(x + r * dim, dim, bias);
  });
}

void AddInPlace(ThreadPool& pool, float* x, const float* y, int64_t n) {
  const auto add = Table().add;
  pool.ParallelFor(n, 1 << 14,
                   [&](int64_t begin, int64_t end) { add(x + begin, y + begin, end - begin); });
}

void SoftmaxRows(ThreadPool& pool, float* x, int64_t rows, int64_t dim) {
  const auto row_kernel = Table().softmax_row;
  pool.ParallelFor(rows, RowGrain(dim), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) row_kernel(x + r * dim, dim);
  });
}

void HalfToFloat(const uint16_t* in, float* out, int64_t n) { Table().half_to_float(in, out, n); }

void BFloat16ToFloat(const uint16_t* in, float* out, int64_t n) {
  Table().bfloat16_to_float(in, out, n);
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
