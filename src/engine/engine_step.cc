// One engine step: schedule, build the batch, run the model, sample, check stops.
#include <algorithm>

#include "base/log.h"
#include "engine/engine.h"
#include "engine/request_state.h"
#include "engine/stop_strings.h"

namespace lantern::engine {

namespace {

std::string Str(int64_t v) { return std::to_string(v); }

bool Contains(const std::vector<int32_t>& ids, int32_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

void Engine::AppendToken(Sequence* seq, int32_t token, std::optional<PositionLogprobs> logprobs,
                         SteadyTime now) {
  RequestState* r = seq->request;
  const SamplingParams& p = r->request.params;
  seq->tokens.push_back(token);
  seq->sampling->Append(token);
  ++r->metrics.num_generation_tokens;
  ++totals_.generation_tokens;
  if (!r->metrics.first_token) r->metrics.first_token = now;
  r->metrics.last_token = now;
  r->dirty = true;
  SequenceDelta& d = r->Delta(seq->index);
  d.token_ids.push_back(token);
  d.token_times.push_back(now);
  if (logprobs) d.logprobs.push_back(std::move(*logprobs));

  // Token-level stops, in vLLM's order: length first, then (past min_tokens) EOS and
  // stop_token_ids.
  std::optional<FinishReason> finish;
  const int num_output = seq->num_output();
  if (seq->num_tokens() >= info_.max_model_len || (p.max_tokens && num_output >= *p.max_tokens)) {
    finish = FinishReason::kLength;
  } else if (num_output >= p.min_tokens) {
    if (!p.ignore_eos && Contains(info_.eos_token_ids, token)) {
      finish = FinishReason::kStop;
    } else if (Contains(p.stop_token_ids, token)) {
      finish = FinishReason::kStop;
      seq->stop_reason = token;
    }
  }
  // A grammar that is complete and allows nothing more ends the sequence as EOS would
  // (the token that completed it is text, not a stop token).
  const bool grammar_complete =
      !finish && seq->sampling->matcher && seq->sampling->matcher->IsTerminated();
  if (grammar_complete) finish = FinishReason::kStop;
  if (seq->detokenizer) {
    const bool stopped_by_token = finish == FinishReason::kStop && !grammar_complete;
    const size_t check_from = seq->text.size();
    // A stop token's own text is left out unless include_stop_str_in_output.
    if (!stopped_by_token || p.include_stop_str_in_output) {
      seq->text += seq->detokenizer->Append(token);
    }
    if (!stopped_by_token && !p.stop.empty() && num_output > p.min_tokens) {
      auto match = CheckStopStrings(seq->text, seq->text.size() - check_from, p.stop,
                                    p.include_stop_str_in_output);
      if (match) {
        finish = FinishReason::kStop;
        seq->stop_reason = match->stop;
        if (match->truncate_to) seq->text.resize(*match->truncate_to);
      }
    }
    const size_t size = seq->text.size();
    const size_t limit =
        finish ? size : Utf8Boundary(seq->text, size - std::min(size, seq->text_hold_back));
    if (limit > seq->text_sent) {
      d.text += seq->text.substr(seq->text_sent, limit - seq->text_sent);
      seq->text_sent = limit;
    }
  }
  if (finish) {
    seq->finish_reason = finish;
    d.finish_reason = finish;
    d.stop_reason = seq->stop_reason;
    FinishSequence(seq, now);
  }
}

void Engine::FailBatch(const SchedulerOutput& out, const Status& error) {
  LANTERN_LOG(kError, "engine") << "model forward failed: " << error.ToString();
  const SteadyTime now = Now();
  for (const auto& chunk : out.chunks) {
    if (chunk.seq->status != SequenceStatus::kFinished) {
      AbortRequest(chunk.seq->request, now, error);
    }
  }
}

void Engine::Step() {
  StepStats stats;
  stats.step = ++num_steps_;
  stats.start = Now();
  SchedulerOutput out = scheduler_.Schedule();
  const SteadyTime scheduled_at = Now();
  for (Sequence* seq : out.preempted) {
    RequestState* r = seq->request;
    ++r->metrics.num_preemptions;
    if (seq->index == 0) r->metrics.queue_intervals.push_back({scheduled_at, scheduled_at});
  }
  for (Sequence* seq : out.admitted) {
    RequestState* r = seq->request;
    if (!r->metrics.first_scheduled) r->metrics.first_scheduled = scheduled_at;
    if (seq->index != 0) continue;
    r->metrics.queue_intervals.back().exit = scheduled_at;
    if (r->metrics.queue_intervals.size() == 1) {  // first admission
      r->metrics.num_cached_prompt_tokens = std::min(seq->num_computed, seq->num_prompt_tokens);
      r->metrics.num_computed_prompt_tokens =
          seq->num_prompt_tokens - r->metrics.num_cached_prompt_tokens;
    }
  }
  stats.num_preempted = static_cast<int>(out.preempted.size());
  if (out.empty()) {
    // Cannot happen with a pool that holds max_model_len tokens; never spin on it.
    LANTERN_LOG(kError, "engine") << "scheduler made no progress; failing waiting requests";
    std::vector<RequestState*> stuck;
    for (auto& [id, state] : requests_) stuck.push_back(state.get());
    for (RequestState* r : stuck)
      AbortRequest(r, Now(), Internal("the scheduler made no progress"));
    return;
  }

  // Build the batch. Sequence tokens are not touched until the forward pass is done.
  batch_.sequences.clear();
  size_t rows = 0;
  for (const auto& chunk : out.chunks) {
    Sequence* seq = chunk.seq;
    RequestState* r = seq->request;
    model::SequenceChunk c;
    c.tokens =
        std::span<const int32_t>(seq->tokens.data() + seq->num_computed, chunk.num_new_tokens);
    c.start_position = seq->num_computed;
    c.block_table = seq->block_table;
    const int end = seq->num_computed + chunk.num_new_tokens;
    const bool samples = end == seq->num_tokens();
    const bool prompt_logprobs = seq->index == 0 && r->request.params.prompt_logprobs &&
                                 r->prompt_logprobs_next < seq->num_prompt_tokens &&
                                 end >= r->prompt_logprobs_next;
    c.logits = prompt_logprobs ? model::SequenceChunk::Logits::kAll
               : samples       ? model::SequenceChunk::Logits::kLast
                               : model::SequenceChunk::Logits::kNone;
    rows += c.logits == model::SequenceChunk::Logits::kAll ? chunk.num_new_tokens : samples ? 1 : 0;
    const bool decode = chunk.num_new_tokens == 1 && seq->num_computed >= seq->num_prompt_tokens;
    (decode ? stats.num_decode_tokens : stats.num_prefill_tokens) += chunk.num_new_tokens;
    ++(decode ? stats.num_decode_seqs : stats.num_prefill_seqs);
    if (seq->index == 0 && seq->num_computed < seq->num_prompt_tokens) {
      ++r->metrics.num_prefill_chunks;
    }
    if (stats.request_ids.empty() || stats.request_ids.back() != r->request.id) {
      stats.request_ids.push_back(r->request.id);
      stats.trace_contexts.push_back(r->request.trace_context);
    }
    batch_.sequences.push_back(c);
  }

  const SteadyTime forward_start = Now();
  Status status = model_->Forward(batch_, *kv_, &logits_);
  const SteadyTime forward_end = Now();
  stats.schedule_s = SecondsBetween(stats.start, forward_start);
  // A device model's own time (CUDA events), so time_in_model_forward is the GPU's.
  stats.forward_s = model_->LastForwardDeviceSeconds().value_or(
      SecondsBetween(forward_start, forward_end));
  const size_t vocab = static_cast<size_t>(info_.vocab_size);
  if (status.ok() && logits_.size() != rows * vocab) {
    status = Internal("the model returned " + Str(static_cast<int64_t>(logits_.size())) +
                      " logits for " + Str(static_cast<int64_t>(rows)) + " rows of " +
                      Str(info_.vocab_size));
  }
  if (!status.ok()) {
    FailBatch(out, status);
  } else {
    size_t row = 0;
    for (size_t i = 0; i < out.chunks.size(); ++i) {
      Sequence* seq = out.chunks[i].seq;
      RequestState* r = seq->request;
      const int n = out.chunks[i].num_new_tokens;
      const int start = seq->num_computed;
      const auto mode = batch_.sequences[i].logits;
      const size_t chunk_rows = mode == model::SequenceChunk::Logits::kAll    ? n
                                : mode == model::SequenceChunk::Logits::kLast ? 1
                                                                              : 0;
      scheduler_.Computed(seq, n);
      if (r->last_step != stats.step) {
        r->last_step = stats.step;
        r->metrics.model_forward_s += stats.forward_s;
        r->metrics.scheduler_s += stats.schedule_s;
      }
      if (mode == model::SequenceChunk::Logits::kAll) {
        const SamplingParams& p = r->request.params;
        for (int j = 0; j < n; ++j) {
          const int pos = start + j + 1;
          if (pos < r->prompt_logprobs_next || pos >= seq->num_prompt_tokens) continue;
          r->prompt_logprobs.push_back(sampler_.Logprobs(logits_.data() + (row + j) * vocab,
                                                         seq->tokens[pos], *p.prompt_logprobs));
          r->prompt_logprobs_next = pos + 1;
        }
      }
      if (seq->index == 0 && r->request.params.prompt_logprobs && !r->prompt_logprobs_sent &&
          r->prompt_logprobs_next >= seq->num_prompt_tokens) {
        PositionLogprobs first;
        first.chosen.token_id = seq->tokens[0];
        r->prompt_logprobs.insert(r->prompt_logprobs.begin(), std::move(first));
        r->pending.prompt_logprobs = std::move(r->prompt_logprobs);
        r->prompt_logprobs_sent = true;
        r->dirty = true;
      }
      if (seq->index == 0 && r->siblings_held && seq->num_computed >= seq->num_prompt_tokens) {
        ReleaseHeldSiblings(r);
      }
      if (chunk_rows > 0 && seq->num_computed == seq->num_tokens()) {
        const float* logits = logits_.data() + (row + chunk_rows - 1) * vocab;
        if (seq->sampling->matcher) ++stats.num_guided_seqs;
        SampleResult sample = sampler_.Sample(logits, *seq->sampling);
        AppendToken(seq, sample.token, std::move(sample.logprobs), forward_end);
      }
      row += chunk_rows;
    }
  }
  const SteadyTime end = Now();
  stats.sample_s = SecondsBetween(forward_end, end);
  stats.mask_s = sampler_.TakeMaskSeconds();
  for (const auto& chunk : out.chunks) {
    RequestState* r = chunk.seq->request;
    if (r->last_step == stats.step) r->metrics.model_execute_s += SecondsBetween(stats.start, end);
    if (r->pending.metrics) r->pending.metrics = r->metrics;  // finished this step: final figures
  }
  stats.end = end;
  PublishStats(&stats);
}

}  // namespace lantern::engine
