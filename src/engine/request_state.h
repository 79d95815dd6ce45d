// The engine's record of one request (internal to the engine: shared by engine.cc, which
// admits, aborts and finishes requests, and engine_step.cc, which runs the steps).
#pragma once

#include <memory>
#include <vector>

#include "engine/request.h"
#include "engine/sequence.h"

namespace lantern::engine {

// A request inside the engine: its sequences, metrics and the output of the current step.
struct RequestState {
  Request request;
  std::shared_ptr<RequestStream> stream;
  SteadyTime submitted;
  uint64_t order = 0;
  std::vector<std::unique_ptr<Sequence>> seqs;
  int num_unfinished = 0;
  bool siblings_held = false;  // sequences 1..n-1 wait for sequence 0's prompt
  RequestMetrics metrics;
  uint64_t last_step = 0;        // the last step that counted toward model_*_s
  int prompt_logprobs_next = 1;  // next prompt position to compute logprobs for
  std::vector<PositionLogprobs> prompt_logprobs;
  bool prompt_logprobs_sent = false;
  RequestOutput pending;  // this step's update
  bool dirty = false;

  SequenceDelta& Delta(int index) {
    for (auto& d : pending.sequences) {
      if (d.index == index) return d;
    }
    pending.sequences.emplace_back().index = index;
    return pending.sequences.back();
  }
};

}  // namespace lantern::engine
