// Rotary position embeddings (RoPE) in Hugging Face's rotate-half convention: the first
// and second halves of each head vector are the pair rotated by frequency i.
#pragma once

#include <cstdint>
#include <span>

#include "base/thread_pool.h"

namespace lantern::tensor {

// cos/sin tables of one batch: for each row r, angle_i = positions[r] * inv_freq[i] for
// i < inv_freq.size() (= head_dim / 2), computed in double and multiplied by `scale`
// (YaRN's attention factor). cos and sin are [rows][inv_freq.size()].
void RopeCosSin(ThreadPool& pool, std::span<const int32_t> positions,
                std::span<const double> inv_freq, double scale, float* cos, float* sin);

// Rotates `heads` vectors of `head_dim` at the start of each of `rows` rows (row stride
// ld) in place: x1' = (x1 cos - x2 sin) * mul, x2' = (x2 cos + x1 sin) * mul, with x1 the
// first half. `mul` folds in a constant factor (the 1/sqrt(head_dim) of the queries).
void ApplyRope(ThreadPool& pool, float* x, int64_t rows, int64_t ld, int heads, int head_dim,
               const float* cos, const float* sin, float mul);

}  // namespace lantern::tensor
