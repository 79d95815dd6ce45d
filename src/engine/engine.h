// The engine: one named thread ("lantern-engine") runs the step loop — schedule, compute
// the batch with the model, sample, check stops, stream outputs — over a fixed pool of KV
// blocks. Submit, Abort, reading outputs and the statistics are safe from any thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/status.h"
#include "engine/block_pool.h"
#include "engine/engine_config.h"
#include "engine/request.h"
#include "engine/sampler.h"
#include "engine/scheduler.h"
#include "model/model.h"

namespace lantern::engine {

// The engine's limits, fixed at creation.
struct EngineInfo {
  int max_model_len = 0;
  int block_size = 0;
  int num_kv_blocks = 0;
  size_t kv_cache_bytes = 0;
  model::DType kv_cache_dtype = model::DType::kF32;  // what the pool holds K and V in
  int vocab_size = 0;
  std::vector<int32_t> eos_token_ids;
  int num_step_graphs = 0;  // CUDA graphs a device model captured for decode steps
};

class Engine {
 public:
  // Sizes the KV pool, allocates it and starts the engine thread. Fails with a clear
  // message when the configuration cannot work (e.g. the pool holds fewer tokens than
  // the maximum model length).
  static Result<std::unique_ptr<Engine>> Create(std::shared_ptr<model::Model> model,
                                                EngineConfig config);
  ~Engine();  // Shutdown()
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Validates and queues a request; its outputs arrive on the returned stream. Errors:
  // InvalidArgument (a bad field, named), Unavailable (shut down or failed),
  // ResourceExhausted (too many queued requests).
  Result<std::shared_ptr<RequestStream>> Submit(Request request);
  // Aborts a request wherever it is; it finishes with reason "abort" and frees its KV
  // blocks within one step. Unknown or finished ids are ignored.
  void Abort(const std::string& request_id);
  // Aborts everything, stops and joins the engine thread. Idempotent.
  void Shutdown();

  const EngineInfo& info() const { return info_; }
  EngineCounters Counters() const;
  std::vector<StepStats> RecentSteps() const;
  // False after Shutdown, or once the model failed and the engine stopped.
  bool alive() const;

 private:
  Engine(std::shared_ptr<model::Model> model, EngineConfig config, EngineInfo info,
         std::unique_ptr<model::KvCache> kv);
  void Loop();
  void TakeInbox(std::vector<std::unique_ptr<RequestState>>* requests,
                 std::vector<std::string>* aborts, bool* stop);
  void Admit(std::unique_ptr<RequestState> state);
  void AbortRequest(RequestState* state, SteadyTime now, const Status& error);
  void Step();
  void FailBatch(const SchedulerOutput& out, const Status& error);
  // Records a sampled token: stop checks, text, outputs.
  void AppendToken(Sequence* seq, int32_t token, std::optional<PositionLogprobs> logprobs,
                   SteadyTime now);
  void FinishSequence(Sequence* seq, SteadyTime now);
  void ReleaseHeldSiblings(RequestState* state);
  void FlushOutputs(SteadyTime now);
  void PublishStats(StepStats* step);
  void UpdateCounters();

  const std::shared_ptr<model::Model> model_;
  const EngineConfig config_;
  const EngineInfo info_;
  std::unique_ptr<model::KvCache> kv_;

  // Engine-thread state.
  BlockPool pool_;
  Scheduler scheduler_;
  Sampler sampler_;
  Rng seed_rng_;
  std::unordered_map<std::string, std::unique_ptr<RequestState>> requests_;
  std::vector<RequestState*> dirty_;  // requests with output to push this step
  std::vector<float> logits_;
  model::Batch batch_;
  uint64_t next_order_ = 0;
  uint64_t num_steps_ = 0;
  int num_held_ = 0;       // sequences 1..n-1 waiting for their request's prompt
  EngineCounters totals_;  // finished_* / tokens, engine thread only

  // Shared with other threads.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<RequestState>> inbox_;
  std::vector<std::string> aborts_;
  std::unordered_set<std::string> active_ids_;
  bool stopping_ = false;
  bool failed_ = false;

  mutable std::mutex stats_mu_;
  EngineCounters counters_;
  std::deque<StepStats> steps_;

  std::thread thread_;
};

}  // namespace lantern::engine
