// Test helpers for the engine: a deterministic model whose logits are a pure function of
// the token history it reads back from the paged KV cache (so a wrong block table, a
// missing or stale block changes the output), a letter detokenizer, and output collection.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "model/model.h"

namespace lantern::engine::testing {

class HistoryModel : public model::Model {
 public:
  HistoryModel(int vocab_size, int max_positions, std::vector<int> eos_token_ids) {
    config_.vocab_size = vocab_size;
    config_.hidden_size = 1;
    config_.num_hidden_layers = 1;
    config_.num_attention_heads = 1;
    config_.num_key_value_heads = 1;
    config_.head_dim = 1;
    config_.max_position_embeddings = max_positions;
    config_.eos_token_ids = std::move(eos_token_ids);
  }
  const model::ModelConfig& config() const override { return config_; }

  Status Forward(const model::Batch& batch, model::KvCache& kv,
                 std::vector<float>* logits) override {
    logits->clear();
    ++forward_calls;
    const int bs = kv.block_size();
    for (const auto& s : batch.sequences) {
      const int end = s.start_position + static_cast<int>(s.tokens.size());
      if (static_cast<int>(s.block_table.size()) * bs < end) {
        return InvalidArgument("block table too short");
      }
      for (size_t j = 0; j < s.tokens.size(); ++j) {
        const int pos = s.start_position + static_cast<int>(j);
        const int block = s.block_table[pos / bs];
        if (block < 0 || block >= kv.num_blocks()) return InvalidArgument("bad block id");
        PutSlot(kv, block, pos % bs, s.tokens[j] + 1);
      }
      int first_row = end;
      if (s.logits == model::SequenceChunk::Logits::kAll) first_row = s.start_position;
      if (s.logits == model::SequenceChunk::Logits::kLast) first_row = end - 1;
      for (int row = first_row; row < end; ++row) {
        uint64_t h = 0x1234;
        for (int pos = 0; pos <= row; ++pos) {
          const uint32_t v = GetSlot(kv, s.block_table[pos / bs], pos % bs);
          if (v == 0) return InvalidArgument("position never computed");
          h = Mix(h ^ static_cast<uint64_t>(v));
        }
        for (int t = 0; t < config_.vocab_size; ++t) {
          logits->push_back(static_cast<float>(Mix(h + t) % 1000) / 100.0f - 5.0f);
        }
      }
    }
    return Status::Ok();
  }

  std::atomic<int> forward_calls{0};

 private:
  // A token id + 1 kept in a K slot of layer 0, in whatever element type the cache has
  // (the ids stay below 2^16, so 16-bit slots hold them as integers).
  static void PutSlot(model::KvCache& kv, int block, int slot, uint32_t value) {
    if (kv.dtype() == model::DType::kF32) {
      static_cast<float*>(kv.key_block(0, block))[slot] = static_cast<float>(value);
    } else {
      static_cast<uint16_t*>(kv.key_block(0, block))[slot] = static_cast<uint16_t>(value);
    }
  }
  static uint32_t GetSlot(const model::KvCache& kv, int block, int slot) {
    if (kv.dtype() == model::DType::kF32) {
      return static_cast<uint32_t>(static_cast<const float*>(kv.key_block(0, block))[slot]);
    }
    return static_cast<const uint16_t*>(kv.key_block(0, block))[slot];
  }
  static uint64_t Mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  model::ModelConfig config_;
};

// Token t reads as one letter, except multiples of 5 which read as two.
inline std::string TokenText(int32_t t) {
  std::string s(1, static_cast<char>('a' + t % 26));
  if (t % 5 == 0) s += static_cast<char>('A' + t % 26);
  return s;
}

class LetterDetokenizer : public IncrementalDetokenizer {
 public:
  std::string Append(int32_t token_id) override { return TokenText(token_id); }
};

inline DetokenizerFactory LetterDetokenizers() {
  return [](std::span<const int32_t>, bool) { return std::make_unique<LetterDetokenizer>(); };
}

struct SequenceResult {
  std::vector<int32_t> tokens;
  std::vector<SteadyTime> token_times;
  std::vector<PositionLogprobs> logprobs;
  std::string text;
  std::optional<FinishReason> finish_reason;
  std::variant<std::monostate, int32_t, std::string> stop_reason;
};

struct Collected {
  std::map<int, SequenceResult> seqs;
  std::vector<PositionLogprobs> prompt_logprobs;
  std::optional<RequestMetrics> metrics;
  Status error;
  int updates = 0;
  bool finished = false;
};

inline Collected Collect(RequestStream& stream) {
  Collected c;
  RequestOutput out;
  while (stream.Next(&out)) {
    ++c.updates;
    for (auto& d : out.sequences) {
      SequenceResult& s = c.seqs[d.index];
      s.tokens.insert(s.tokens.end(), d.token_ids.begin(), d.token_ids.end());
      s.token_times.insert(s.token_times.end(), d.token_times.begin(), d.token_times.end());
      for (auto& lp : d.logprobs) s.logprobs.push_back(lp);
      s.text += d.text;
      if (d.finish_reason) {
        s.finish_reason = d.finish_reason;
        s.stop_reason = d.stop_reason;
      }
    }
    if (!out.prompt_logprobs.empty()) c.prompt_logprobs = out.prompt_logprobs;
    if (out.metrics) c.metrics = out.metrics;
    if (!out.error.ok()) c.error = out.error;
    c.finished = c.finished || out.finished;
  }
  return c;
}

}  // namespace lantern::engine::testing
