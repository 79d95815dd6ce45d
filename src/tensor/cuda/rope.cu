// Rotary position embeddings in the rotate-half convention, as tensor/rope.h: the angle in
// double (positions reach 10^5-10^6 and inv_freq spans many decades; fp32 angles would drift
// from the CPU path), cos/sin times the attention factor rounded to fp32, then the rotation.
#include "tensor/cuda/cuda_ops.h"
#include "tensor/cuda/cuda_util.h"

namespace lantern::tensor::cuda {
namespace {

// Block per row; threads over (head, i < head_dim / 2).
__global__ void RopeKernel(float* __restrict__ x, int64_t ld, int heads, int head_dim,
                           const int32_t* __restrict__ positions,
                           const double* __restrict__ inv_freq, double attention_factor,
                           float mul) {
  const int half = head_dim / 2;
  const double pos = positions[blockIdx.x];
  float* row = x + blockIdx.x * ld;
  for (int j = threadIdx.x; j < heads * half; j += blockDim.x) {
    const int h = j / half, i = j % half;
    double s, c;
    sincos(pos * inv_freq[i], &s, &c);
    const float cf = static_cast<float>(c * attention_factor);
    const float sf = static_cast<float>(s * attention_factor);
    float* v = row + static_cast<int64_t>(h) * head_dim;
    const float x1 = v[i], x2 = v[i + half];
    v[i] = (x1 * cf - x2 * sf) * mul;
    v[i + half] = (x2 * cf + x1 * sf) * mul;
  }
}

}  // namespace

void ApplyRope(float* d_x, int64_t rows, int64_t ld, int heads, int head_dim,
               const int32_t* d_positions, const double* d_inv_freq, double attention_factor,
               float mul, Stream stream) {
  if (rows <= 0 || heads <= 0 || head_dim < 2) return;
  const int work = heads * (head_dim / 2);
  const int threads = work >= 256 ? 256 : ((work + 31) / 32) * 32;
  RopeKernel<<<static_cast<unsigned>(rows), threads, 0, stream>>>(
      d_x, ld, heads, head_dim, d_positions, d_inv_freq, attention_factor, mul);
}

}  // namespace lantern::tensor::cuda
