// Engine-internal state of one output sequence (a request with n > 1 has n of them; all
// start from the same prompt, sequence 0 computes it and the others reuse its KV blocks).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "engine/detokenizer.h"
#include "engine/request.h"
#include "engine/sampler.h"

namespace lantern::engine {

struct RequestState;

enum class SequenceStatus { kHeld, kWaiting, kRunning, kFinished };

struct Sequence {
  RequestState* request = nullptr;
  uint64_t order = 0;  // FCFS key: arrival order of the request, then the index
  int index = 0;
  SequenceStatus status = SequenceStatus::kHeld;

  std::vector<int32_t> tokens;  // prompt then generated tokens
  int num_prompt_tokens = 0;
  int num_computed = 0;  // tokens whose KV is in the cache
  int num_output() const { return static_cast<int>(tokens.size()) - num_prompt_tokens; }
  int num_tokens() const { return static_cast<int>(tokens.size()); }

  // KV blocks, owned through the block pool's reference counts.
  std::vector<int32_t> block_table;
  std::vector<uint64_t> block_hashes;  // of the full blocks of `tokens`, filled lazily
  int num_registered_blocks = 0;       // leading blocks already findable in the prefix cache
  bool use_prefix_cache = true;        // hash and register this sequence's full blocks
  bool allow_prefix_hits = true;       // false while prompt logprobs must be computed
  uint64_t cache_salt = 0;             // separates cache namespaces (0: shared by all)
  int num_preemptions = 0;

  // Sampling and output.
  std::optional<SamplingState> sampling;
  std::unique_ptr<IncrementalDetokenizer> detokenizer;
  std::string text;           // detokenized output, cut at a stop string
  size_t text_sent = 0;       // bytes of `text` already streamed
  size_t text_hold_back = 0;  // see StopHoldBack
  std::optional<FinishReason> finish_reason;
  std::variant<std::monostate, int32_t, std::string> stop_reason;
};

}  // namespace lantern::engine
