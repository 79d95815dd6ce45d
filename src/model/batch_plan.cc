#include "model/batch_plan.h"

#include <algorithm>
#include <string>

namespace lantern::model {

Status ValidateBatch(const Batch& batch, const KvCache& kv, const ModelConfig& config,
                     int64_t max_positions, const Device& device) {
  if (kv.device() != device) {
    return FailedPrecondition("KV cache on " + kv.device().ToString() + ", the model on " +
                              device.ToString());
  }
  if (kv.num_layers() != config.num_hidden_layers ||
      kv.num_kv_heads() != config.num_key_value_heads || kv.head_dim() != config.head_dim) {
    return FailedPrecondition("KV cache layout (layers " + std::to_string(kv.num_layers()) +
                              ", kv heads " + std::to_string(kv.num_kv_heads()) + ", head dim " +
                              std::to_string(kv.head_dim()) + ") does not match the model");
  }
  for (size_t s = 0; s < batch.sequences.size(); ++s) {
    const SequenceChunk& seq = batch.sequences[s];
    const std::string where = "batch sequence " + std::to_string(s) + ": ";
    if (seq.tokens.empty()) return InvalidArgument(where + "no tokens");
    if (seq.start_position < 0) return InvalidArgument(where + "negative start_position");
    const int64_t end = int64_t{seq.start_position} + static_cast<int64_t>(seq.tokens.size());
    if (end > max_positions) {
      return InvalidArgument(where + "positions up to " + std::to_string(end) +
                             " exceed max_position_embeddings " + std::to_string(max_positions));
    }
    const int64_t blocks_needed = (end + kv.block_size() - 1) / kv.block_size();
    if (static_cast<int64_t>(seq.block_table.size()) < blocks_needed) {
      return InvalidArgument(where + "block table has " + std::to_string(seq.block_table.size()) +
                             " blocks, " + std::to_string(blocks_needed) + " needed");
    }
    for (int64_t b = 0; b < blocks_needed; ++b) {
      if (seq.block_table[b] < 0 || seq.block_table[b] >= kv.num_blocks()) {
        return InvalidArgument(where + "block id " + std::to_string(seq.block_table[b]) +
                               " outside the cache's " + std::to_string(kv.num_blocks()) +
                               " blocks");
      }
    }
    for (int32_t t : seq.tokens) {
      if (t < 0 || t >= config.vocab_size) {
        return InvalidArgument(where + "token id " + std::to_string(t) + " outside vocabulary of " +
                               std::to_string(config.vocab_size));
      }
    }
  }
  return Status::Ok();
}

void BatchPlan::Build(const Batch& batch) {
  sequences.clear();
  positions.clear();
  rows = 0;
  logit_rows = 0;
  for (const SequenceChunk& seq : batch.sequences) {
    const int32_t n = static_cast<int32_t>(seq.tokens.size());
    sequences.push_back({rows, n, seq.start_position, seq.block_table.data()});
    for (int32_t t = 0; t < n; ++t) positions.push_back(seq.start_position + t);
    rows += n;
    logit_rows += seq.logits == SequenceChunk::Logits::kAll    ? n
                  : seq.logits == SequenceChunk::Logits::kLast ? 1
                                                               : 0;
  }
}

void BatchPlan::GatherLogitRows(const Batch& batch, const float* x, int64_t dim, float* out) const {
  int64_t out_row = 0;
  for (size_t s = 0; s < batch.sequences.size(); ++s) {
    const auto mode = batch.sequences[s].logits;
    if (mode == SequenceChunk::Logits::kNone) continue;
    const int64_t n = sequences[s].num_new;
    const int64_t first = mode == SequenceChunk::Logits::kAll ? 0 : n - 1;
    std::copy_n(x + (sequences[s].first_row + first) * dim, (n - first) * dim, out + out_row * dim);
    out_row += n - first;
  }
}

std::vector<float> RandomWeights(ThreadPool& pool, int64_t n, uint64_t stream, float center) {
  std::vector<float> v(n);
  constexpr int64_t kChunk = 1 << 16;
  pool.ParallelFor((n + kChunk - 1) / kChunk, 1, [&](int64_t begin, int64_t end) {
    for (int64_t chunk = begin; chunk < end; ++chunk) {
      uint64_t x = (stream * 0x9E3779B97F4A7C15ull + chunk) * 0xD1B54A32D192ED03ull | 1;
      for (int64_t i = chunk * kChunk; i < std::min(n, (chunk + 1) * kChunk); ++i) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        const float unit = static_cast<float>(x >> 40) * (1.0f / 16777216.0f);  // [0, 1)
        v[i] = center + (2.0f * unit - 1.0f) * 0.0346410162f;
      }
    }
  });
  return v;
}

}  // namespace lantern::model
