#include "engine/engine.h"

#include <pthread.h>

#include <algorithm>
#include <exception>

#include "base/log.h"
#include "engine/request_state.h"
#include "engine/stop_strings.h"

namespace lantern::engine {

namespace {

std::string Str(int64_t v) { return std::to_string(v); }

bool Contains(const std::vector<int32_t>& ids, int32_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

Result<std::unique_ptr<Engine>> Engine::Create(std::shared_ptr<model::Model> model,
                                               EngineConfig config) {
  if (!model) return InvalidArgument("engine: no model");
  const model::ModelConfig& mc = model->config();
  if (mc.vocab_size <= 0) return InvalidArgument("engine: model vocab_size must be positive");
  if (config.max_num_seqs < 1) {
    return InvalidArgument("max_num_seqs must be at least 1, got " + Str(config.max_num_seqs));
  }
  if (config.max_num_batched_tokens < 1) {
    return InvalidArgument("max_num_batched_tokens must be at least 1, got " +
                           Str(config.max_num_batched_tokens));
  }
  if (config.block_size < 1 || config.block_size > 1024) {
    return InvalidArgument("block_size must be in [1, 1024], got " + Str(config.block_size));
  }
  if (config.max_logprobs < 0) {
    return InvalidArgument("max_logprobs must be at least 0, got " + Str(config.max_logprobs));
  }
  EngineInfo info;
  info.vocab_size = mc.vocab_size;
  info.block_size = config.block_size;
  const int model_len = mc.max_position_embeddings;
  if (config.max_model_len < 0) {
    return InvalidArgument("max_model_len must be positive, got " + Str(config.max_model_len));
  }
  if (config.max_model_len > 0 && model_len > 0 && config.max_model_len > model_len) {
    return InvalidArgument("max_model_len " + Str(config.max_model_len) +
                           " is larger than the model's max_position_embeddings " + Str(model_len));
  }
  info.max_model_len = config.max_model_len > 0 ? config.max_model_len : model_len;
  if (info.max_model_len <= 0) {
    return InvalidArgument("max_model_len is unknown: the model sets no max_position_embeddings");
  }

  if (config.kv_cache_memory_bytes < 0) {
    return InvalidArgument("kv_cache_memory must be positive, got " +
                           Str(config.kv_cache_memory_bytes));
  }
  info.kv_cache_dtype = config.kv_cache_dtype.value_or(model->AutoKvCacheDType());
  const int64_t per_block =
      static_cast<int64_t>(model->KvBytesPerBlock(config.block_size, info.kv_cache_dtype));
  const int64_t needed_blocks = (info.max_model_len + config.block_size - 1) / config.block_size;
  // By default the pool holds what the model can use, max_num_seqs sequences of the full
  // length, within the memory rule's share: a small model gets a small pool, and its
  // usage figure means something.
  const int64_t useful = per_block * needed_blocks * std::max(1, config.max_num_seqs);
  // A device model reserves its activations and says what its memory has left for the pool
  // (--gpu-memory-utilization), all of which the pool takes, as vLLM's does.
  LANTERN_ASSIGN_OR_RETURN(
      const std::optional<int64_t> device_budget,
      model->ReserveDeviceMemory({.max_num_seqs = config.max_num_seqs,
                                  .max_num_batched_tokens = config.max_num_batched_tokens,
                                  .max_model_len = info.max_model_len,
                                  .block_size = config.block_size,
                                  .kv_dtype = info.kv_cache_dtype}));
  const int64_t bytes = config.kv_cache_memory_bytes > 0 ? config.kv_cache_memory_bytes
                        : device_budget                  ? *device_budget
                                                         : std::min(DefaultKvCacheMemory(), useful);
  const int64_t num_blocks = std::min<int64_t>(bytes / per_block, INT32_MAX / 2);
  if (num_blocks < needed_blocks) {
    return ResourceExhausted(
        "KV cache memory of " + Str(bytes) + " bytes holds " + Str(num_blocks) + " blocks of " +
        Str(config.block_size) + " tokens (" + Str(per_block) + " bytes each), fewer than the " +
        Str(needed_blocks) + " blocks one sequence of the maximum model length " +
        Str(info.max_model_len) + " needs; raise kv_cache_memory to at least " +
        Str(needed_blocks * per_block) + " bytes or lower max_model_len");
  }
  info.num_kv_blocks = static_cast<int>(num_blocks);
  info.kv_cache_bytes = static_cast<size_t>(num_blocks * per_block);
  info.eos_token_ids = mc.eos_token_ids;
  for (int32_t id : config.extra_eos_token_ids) {
    if (!Contains(info.eos_token_ids, id)) info.eos_token_ids.push_back(id);
  }
  std::unique_ptr<model::KvCache> kv =
      model->NewKvCache(info.num_kv_blocks, config.block_size, info.kv_cache_dtype);
  if (!kv) {
    return ResourceExhausted("engine: could not allocate the KV cache of " + Str(num_blocks) +
                             " blocks on " + model->device().ToString());
  }
  LANTERN_ASSIGN_OR_RETURN(info.num_step_graphs, model->PrepareSteps(*kv));
  std::unique_ptr<Engine> engine(
      new Engine(std::move(model), std::move(config), std::move(info), std::move(kv)));
  engine->thread_ = std::thread([e = engine.get()] { e->Loop(); });
  return engine;
}

Engine::Engine(std::shared_ptr<model::Model> model, EngineConfig config, EngineInfo info,
               std::unique_ptr<model::KvCache> kv)
    : model_(std::move(model)),
      config_(std::move(config)),
      info_(std::move(info)),
      kv_(std::move(kv)),
      pool_(info_.num_kv_blocks, info_.block_size),
      scheduler_({config_.max_num_seqs, config_.max_num_batched_tokens}, &pool_),
      sampler_(info_.vocab_size),
      seed_rng_(config_.seed) {
  counters_.kv_blocks_total = info_.num_kv_blocks;
}

Engine::~Engine() { Shutdown(); }

void Engine::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

bool Engine::alive() const {
  std::lock_guard<std::mutex> lock(mu_);
  return !stopping_ && !failed_;
}

Result<std::shared_ptr<RequestStream>> Engine::Submit(Request request) {
  if (request.id.empty()) return InvalidArgument("request id must not be empty");
  const auto& prompt = request.prompt_token_ids;
  if (prompt.empty()) return InvalidArgument("prompt must contain at least one token");
  for (size_t i = 0; i < prompt.size(); ++i) {
    if (prompt[i] < 0 || prompt[i] >= info_.vocab_size) {
      return InvalidArgument("prompt token " + Str(static_cast<int64_t>(i)) + " is " +
                             Str(prompt[i]) + ", outside the vocabulary [0, " +
                             Str(info_.vocab_size) + ")");
    }
  }
  if (static_cast<int64_t>(prompt.size()) > info_.max_model_len) {
    return InvalidArgument("the prompt (length " + Str(static_cast<int64_t>(prompt.size())) +
                           ") is longer than the maximum model length of " +
                           Str(info_.max_model_len));
  }
  LANTERN_RETURN_IF_ERROR(request.params.Validate(info_.vocab_size, config_.max_logprobs));
  if (!request.params.stop.empty() && !config_.detokenizer_factory) {
    return InvalidArgument("stop strings need a tokenizer, and this engine has none");
  }

  auto state = std::make_unique<RequestState>();
  state->submitted = Now();
  if (!request.arrival_time) request.arrival_time = state->submitted;
  state->stream = std::make_shared<RequestStream>(request.id);
  state->request = std::move(request);
  std::shared_ptr<RequestStream> stream = state->stream;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (failed_) return Unavailable("the engine has failed and accepts no requests");
    if (stopping_) return Unavailable("the engine is shutting down");
    const std::string& id = state->request.id;
    if (active_ids_.count(id)) return InvalidArgument("request id '" + id + "' is already in use");
    if (static_cast<int>(active_ids_.size()) >= config_.max_queued_requests) {
      return ResourceExhausted("the engine already holds " + Str(config_.max_queued_requests) +
                               " requests");
    }
    active_ids_.insert(id);
    inbox_.push_back(std::move(state));
  }
  cv_.notify_one();
  return stream;
}

void Engine::Abort(const std::string& request_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!active_ids_.count(request_id)) return;
    aborts_.push_back(request_id);
  }
  cv_.notify_one();
}

EngineCounters Engine::Counters() const {
  std::lock_guard<std::mutex> lock(stats_mu_);
  return counters_;
}

std::vector<StepStats> Engine::RecentSteps() const {
  std::lock_guard<std::mutex> lock(stats_mu_);
  return {steps_.begin(), steps_.end()};
}

void Engine::Loop() {
  pthread_setname_np(pthread_self(), "lantern-engine");
  std::vector<std::unique_ptr<RequestState>> incoming;
  std::vector<std::string> aborts;
  try {
    for (;;) {
      bool stop = false;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] {
          return stopping_ || !inbox_.empty() || !aborts_.empty() || !scheduler_.idle();
        });
        stop = stopping_;
        incoming.swap(inbox_);
        aborts.swap(aborts_);
      }
      for (auto& state : incoming) Admit(std::move(state));
      incoming.clear();
      for (const auto& id : aborts) {
        if (auto it = requests_.find(id); it != requests_.end()) {
          AbortRequest(it->second.get(), Now(), Status::Ok());
        }
      }
      aborts.clear();
      if (stop) break;
      if (!scheduler_.idle()) Step();
      FlushOutputs(Now());
      UpdateCounters();
    }
  } catch (const std::exception& e) {
    LANTERN_LOG(kError, "engine") << "engine loop failed: " << e.what();
    std::lock_guard<std::mutex> lock(mu_);
    failed_ = true;
  }
  // Shutting down (or failed): every request still here ends as aborted.
  const SteadyTime now = Now();
  const Status error = failed_ ? Internal("the engine failed") : Status::Ok();
  std::vector<RequestState*> left;
  for (auto& [id, state] : requests_) left.push_back(state.get());
  for (RequestState* state : left) AbortRequest(state, now, error);
  FlushOutputs(now);
  UpdateCounters();
}

void Engine::Admit(std::unique_ptr<RequestState> state) {
  RequestState* r = state.get();
  const Request& req = r->request;
  const SamplingParams& p = req.params;
  r->order = next_order_++;
  r->metrics.arrival = *req.arrival_time;
  r->metrics.num_prompt_tokens = static_cast<int>(req.prompt_token_ids.size());
  r->metrics.queue_intervals.push_back({r->submitted, r->submitted});
  r->num_unfinished = p.n;
  for (int i = 0; i < p.n; ++i) {
    auto seq = std::make_unique<Sequence>();
    seq->request = r;
    seq->index = i;
    seq->order = (r->order << 10) | static_cast<uint64_t>(i);
    seq->tokens = req.prompt_token_ids;
    seq->num_prompt_tokens = static_cast<int>(seq->tokens.size());
    // Without global prefix caching, the n sequences still share their prompt's blocks
    // through a cache namespace of their own.
    seq->use_prefix_cache = config_.enable_prefix_caching || p.n > 1;
    seq->cache_salt = config_.enable_prefix_caching ? 0 : (r->order | (uint64_t{1} << 63));
    seq->allow_prefix_hits = !(i == 0 && p.prompt_logprobs);
    const uint64_t seed = p.seed ? *p.seed + static_cast<uint64_t>(i) : seed_rng_.Next();
    seq->sampling.emplace(r->request.params, seed, req.prompt_token_ids, info_.eos_token_ids);
    if (config_.detokenizer_factory) {
      seq->detokenizer = config_.detokenizer_factory(req.prompt_token_ids, p.skip_special_tokens);
    }
    seq->text_hold_back = StopHoldBack(p.stop, p.include_stop_str_in_output);
    r->seqs.push_back(std::move(seq));
  }
  scheduler_.AddWaiting(r->seqs[0].get());
  r->siblings_held = p.n > 1;
  num_held_ += p.n - 1;
  requests_.emplace(req.id, std::move(state));
}

void Engine::ReleaseHeldSiblings(RequestState* r) {
  r->siblings_held = false;
  for (size_t i = 1; i < r->seqs.size(); ++i) {
    if (r->seqs[i]->status == SequenceStatus::kHeld) {
      scheduler_.AddWaiting(r->seqs[i].get());
      --num_held_;
    }
  }
}

void Engine::AbortRequest(RequestState* r, SteadyTime now, const Status& error) {
  for (auto& seq : r->seqs) {
    if (seq->status == SequenceStatus::kFinished) continue;
    seq->finish_reason = FinishReason::kAbort;
    SequenceDelta& d = r->Delta(seq->index);
    d.finish_reason = FinishReason::kAbort;
    // Text held back for a possible stop string is sent: no stop string came.
    if (seq->text.size() > seq->text_sent) {
      d.text += seq->text.substr(seq->text_sent);
      seq->text_sent = seq->text.size();
    }
    FinishSequence(seq.get(), now);
  }
  if (!error.ok()) r->pending.error = error;
}

void Engine::FinishSequence(Sequence* seq, SteadyTime now) {
  RequestState* r = seq->request;
  if (seq->status == SequenceStatus::kHeld) {
    --num_held_;
  } else {
    scheduler_.Remove(seq);
  }
  seq->status = SequenceStatus::kFinished;
  switch (*seq->finish_reason) {
    case FinishReason::kStop:
      ++totals_.finished_stop;
      break;
    case FinishReason::kLength:
      ++totals_.finished_length;
      break;
    case FinishReason::kAbort:
      ++totals_.finished_abort;
      break;
  }
  r->dirty = true;
  if (--r->num_unfinished > 0) return;
  // The last sequence: the request is done. Close a queue stay left open by an abort.
  auto& queue = r->metrics.queue_intervals;
  if (!queue.empty() && queue.back().exit == queue.back().enter &&
      r->seqs[0]->status != SequenceStatus::kRunning) {
    queue.back().exit = now;
  }
  r->metrics.finished = now;
  totals_.prompt_tokens += r->metrics.num_prompt_tokens;
  r->pending.finished = true;
  r->pending.metrics = r->metrics;
  if (r->request.params.prompt_logprobs && !r->prompt_logprobs_sent) {
    r->pending.prompt_logprobs = std::move(r->prompt_logprobs);
    r->prompt_logprobs_sent = true;
  }
}

void Engine::FlushOutputs(SteadyTime now) {
  std::vector<std::string> done;
  for (auto& [id, state] : requests_) {
    RequestState* r = state.get();
    if (!r->dirty) continue;
    r->dirty = false;
    const bool finished = r->pending.finished;
    r->stream->Push(std::move(r->pending));
    r->pending = RequestOutput{};
    if (finished) done.push_back(id);
  }
  if (done.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& id : done) active_ids_.erase(id);
  }
  for (const auto& id : done) requests_.erase(id);
  (void)now;
}

void Engine::UpdateCounters() {
  EngineCounters c = totals_;
  c.num_running = static_cast<int>(scheduler_.num_running());
  c.num_waiting = static_cast<int>(scheduler_.num_waiting()) + num_held_;
  c.kv_blocks_used = pool_.num_used();
  c.kv_blocks_total = pool_.num_blocks();
  c.prefix_cache_queries = scheduler_.prefix_cache_stats().queries;
  c.prefix_cache_hits = scheduler_.prefix_cache_stats().hits;
  c.num_preemptions = scheduler_.num_preemptions();
  c.num_steps = num_steps_;
  std::lock_guard<std::mutex> lock(stats_mu_);
  counters_ = c;
}

void Engine::PublishStats(StepStats* step) {
  step->num_running = static_cast<int>(scheduler_.num_running());
  step->num_waiting = static_cast<int>(scheduler_.num_waiting()) + num_held_;
  step->kv_blocks_used = pool_.num_used();
  step->kv_blocks_total = pool_.num_blocks();
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    steps_.push_back(*step);
    while (steps_.size() > config_.step_history) steps_.pop_front();
  }
  if (config_.on_step) config_.on_step(*step);
}

}  // namespace lantern::engine
