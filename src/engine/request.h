// What the embedder (the server, the CLI) hands the engine, and what streams back.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "engine/sampling_params.h"

namespace lantern::engine {

enum class FinishReason { kStop, kLength, kAbort };
const char* FinishReasonName(FinishReason reason);  // "stop", "length", "abort"

struct TokenLogprob {
  int32_t token_id = 0;
  float logprob = 0;
  int rank = 0;  // 1-based rank in the distribution (1 = most likely)
};

// Logprobs at one position: the chosen token (sampled, or the actual prompt token) and the
// top-N of the model's raw distribution (as vLLM V1: before penalties and temperature).
struct PositionLogprobs {
  TokenLogprob chosen;
  std::vector<TokenLogprob> top;
};

struct QueueInterval {
  SteadyTime enter;
  SteadyTime exit;  // == enter while still queued
};

// Per-request timings (steady clock) and counts. For n > 1 the times span all sequences:
// first_* are the earliest, last_token/finished the latest, queue intervals those of
// sequence 0 (which computes the shared prompt).
struct RequestMetrics {
  SteadyTime arrival;
  std::vector<QueueInterval> queue_intervals;  // one per stay in the waiting queue
  std::optional<SteadyTime> first_scheduled;
  std::optional<SteadyTime> first_token;
  std::optional<SteadyTime> last_token;
  std::optional<SteadyTime> finished;
  int num_prompt_tokens = 0;
  int num_cached_prompt_tokens = 0;    // prompt tokens taken from the prefix cache (seq 0)
  int num_computed_prompt_tokens = 0;  // prompt tokens computed by the model (seq 0)
  int num_generation_tokens = 0;       // over all sequences
  int num_preemptions = 0;             // over all sequences
  int num_prefill_chunks = 0;          // chunks that computed prompt tokens (seq 0)
  double model_forward_s = 0;          // sum of Model::Forward time of the steps it took part in
  double model_execute_s = 0;          // sum of whole step time of the steps it took part in
  // Sum of the scheduling time (Scheduler::Schedule and building the batch: StepStats::
  // schedule_s) of the steps it took part in, as vLLM's scheduler time: every request in a
  // step waited for that step's whole scheduling, so each is charged all of it.
  double scheduler_s = 0;

  double queue_s() const;      // sum of queue intervals
  double prefill_s() const;    // first_scheduled -> first_token
  double decode_s() const;     // first_token -> last_token
  double inference_s() const;  // first_scheduled -> last_token
  double e2e_s() const;        // arrival -> finished
  double ttft_s() const;       // arrival -> first_token
};

// New output of one sequence since the previous update.
struct SequenceDelta {
  int index = 0;
  std::vector<int32_t> token_ids;
  std::vector<SteadyTime> token_times;        // parallel to token_ids
  std::vector<PositionLogprobs> logprobs;     // parallel to token_ids when logprobs were asked
  std::string text;                           // only when a detokenizer is plugged in
  std::optional<FinishReason> finish_reason;  // set once, in the last update of the sequence
  std::variant<std::monostate, int32_t, std::string> stop_reason;  // matched stop id / string
};

// One update of a request. Updates merge while unread, so a slow reader gets one bigger
// update instead of a growing queue.
struct RequestOutput {
  std::string request_id;
  std::vector<SequenceDelta> sequences;  // only the sequences with news
  // Prompt logprobs (entry 0 is for the first prompt token and has none: empty top and
  // chosen.rank == 0), sent with the first update that has them.
  std::vector<PositionLogprobs> prompt_logprobs;
  bool finished = false;                  // every sequence finished; the last update
  std::optional<RequestMetrics> metrics;  // with the last update
  Status error;                           // non-OK when the engine failed the request

  void MergeFrom(RequestOutput&& next);
};

// A single-producer (engine thread), single-consumer stream of RequestOutput updates.
class RequestStream {
 public:
  explicit RequestStream(std::string request_id) : request_id_(std::move(request_id)) {}
  const std::string& request_id() const { return request_id_; }

  // Blocks until an update is ready; false once the last update has been read.
  bool Next(RequestOutput* out);
  // Non-blocking: the pending update, if any.
  std::optional<RequestOutput> TryNext();
  // Called on the engine thread after each new update; must be quick and not block
  // (e.g. post to an I/O loop). Set it before Submit or race with the first update.
  void SetNotifier(std::function<void()> notifier);

  // Engine side.
  void Push(RequestOutput&& update);

 private:
  const std::string request_id_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<RequestOutput> pending_;
  bool finished_pushed_ = false;
  bool finished_read_ = false;
  std::function<void()> notifier_;
};

struct Request {
  std::string id;
  std::vector<int32_t> prompt_token_ids;
  SamplingParams params;
  std::optional<SteadyTime> arrival_time;  // default: when submitted
  std::shared_ptr<void> trace_context;     // opaque to the engine; the tracer's context
};

}  // namespace lantern::engine
