// What the engine reports about itself: one record per step (for engine_step spans and
// step-level metrics) and engine-wide counters (for /metrics).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"

namespace lantern::engine {

struct StepStats {
  uint64_t step = 0;  // 1, 2, ...
  SteadyTime start;
  SteadyTime end;
  int num_prefill_tokens = 0;  // prompt (or recomputed) tokens computed this step
  int num_decode_tokens = 0;   // single-token decodes
  int num_prefill_seqs = 0;
  int num_decode_seqs = 0;
  int num_preempted = 0;
  int num_running = 0;  // after the step
  int num_waiting = 0;  // after the step
  int kv_blocks_used = 0;
  int kv_blocks_total = 0;
  double schedule_s = 0;                 // scheduling and batch building
  double forward_s = 0;                  // Model::Forward
  double sample_s = 0;                   // sampling, stop checks, detokenization, outputs
  double mask_s = 0;                     // of sample_s: guided decoding's token masks
  int num_guided_seqs = 0;               // sequences sampled under a grammar this step
  std::vector<std::string> request_ids;  // requests in the batch, in batch order
  // The requests' trace contexts (Request::trace_context), parallel to request_ids, so an
  // engine_step span can link to every request in the batch.
  std::vector<std::shared_ptr<void>> trace_contexts;

  double duration_s() const { return SecondsBetween(start, end); }
  // The engine's own share of the step (everything but the model).
  double overhead_s() const { return duration_s() - forward_s; }
};

struct EngineCounters {
  int num_running = 0;  // sequences
  int num_waiting = 0;  // sequences waiting, including those held for a shared prompt
  int kv_blocks_used = 0;
  int kv_blocks_total = 0;
  double kv_usage() const {
    return kv_blocks_total ? static_cast<double>(kv_blocks_used) / kv_blocks_total : 0;
  }
  uint64_t prefix_cache_queries = 0;  // tokens
  uint64_t prefix_cache_hits = 0;     // tokens
  uint64_t num_preemptions = 0;
  uint64_t finished_stop = 0;  // sequences, by finish reason
  uint64_t finished_length = 0;
  uint64_t finished_abort = 0;
  uint64_t prompt_tokens = 0;      // of finished requests
  uint64_t generation_tokens = 0;  // generated so far
  uint64_t num_steps = 0;
};

}  // namespace lantern::engine
