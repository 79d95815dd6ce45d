// What the forward passes (OPT, Llama, GPT-2) share about a batch: checking it against the
// model and the cache, laying its tokens out as rows, and picking the rows whose logits
// were asked for.
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "base/thread_pool.h"
#include "model/model.h"
#include "tensor/attention.h"

namespace lantern::model {

// Checks the cache's layout and device against the config and the model's device, and
// every sequence's tokens, positions (below `max_positions`) and block ids. Errors name the
// sequence and the value.
Status ValidateBatch(const Batch& batch, const KvCache& kv, const ModelConfig& config,
                     int64_t max_positions, const Device& device = Device{});

struct BatchPlan {
  std::vector<tensor::AttentionSequence> sequences;
  std::vector<int32_t> positions;  // per row
  int64_t rows = 0;
  int64_t logit_rows = 0;

  void Build(const Batch& batch);
  // Copies the rows whose logits were asked for, in batch order, from x[rows][dim] into
  // out[logit_rows][dim].
  void GatherLogitRows(const Batch& batch, const float* x, int64_t dim, float* out) const;
};

// Grows `v` to at least n elements (workspaces kept between calls).
inline void FitBuffer(std::vector<float>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(n);
}

// n values uniform around `center` with standard deviation 0.02 (HF's init), filled in
// parallel chunks from per-chunk xorshift streams: random full-size models for benchmarks.
std::vector<float> RandomWeights(ThreadPool& pool, int64_t n, uint64_t stream, float center = 0);

}  // namespace lantern::model
