// How an engine is sized and tuned (the flags of `lantern serve` map onto this).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "engine/detokenizer.h"
#include "engine/engine_stats.h"
#include "model/weights.h"

namespace lantern::engine {

struct EngineConfig {
  int max_num_seqs = 256;
  int max_num_batched_tokens = 2048;
  int64_t kv_cache_memory_bytes = 0;  // 0: DefaultKvCacheMemory()
  // The KV cache's element type (--kv-cache-dtype); unset: the model's AutoKvCacheDType().
  std::optional<model::DType> kv_cache_dtype = std::nullopt;
  int block_size = 16;
  int max_model_len = 0;  // 0: the model's max_position_embeddings
  bool enable_prefix_caching = true;
  uint64_t seed = 0;                         // seeds the generators of requests without a seed
  int max_logprobs = 20;                     // bound on logprobs / prompt_logprobs
  int max_queued_requests = 100000;          // Submit fails with ResourceExhausted past this
  std::vector<int32_t> extra_eos_token_ids;  // e.g. generation_config.json's eos_token_id
  DetokenizerFactory detokenizer_factory;    // text and stop strings; none: ids only
  // Called on the engine thread after every step; must be quick.
  std::function<void(const StepStats&)> on_step;
  size_t step_history = 256;  // steps kept for RecentSteps()
};

// A share (30%) of the memory available to the process, capped at 4 GiB, at least 64 MiB:
// the smaller of the machine's MemAvailable and what its memory cgroup (a container's
// limit) still allows, so that a pod is not pushed past its limit.
int64_t DefaultKvCacheMemory();
// The rule above for given figures (bytes; a non-positive MemAvailable is unknown, and with
// no cgroup figure either the answer is 1 GiB).
int64_t KvCacheMemoryFor(int64_t mem_available, std::optional<int64_t> cgroup_headroom);

}  // namespace lantern::engine
