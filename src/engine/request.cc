#include "engine/request.h"

#include <algorithm>
#include <numeric>

namespace lantern::engine {

const char* FinishReasonName(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop:
      return "stop";
    case FinishReason::kLength:
      return "length";
    case FinishReason::kAbort:
      return "abort";
  }
  return "unknown";
}

double RequestMetrics::queue_s() const {
  double total = 0;
  for (const auto& q : queue_intervals) total += SecondsBetween(q.enter, q.exit);
  return total;
}

double RequestMetrics::prefill_s() const {
  return first_scheduled && first_token ? SecondsBetween(*first_scheduled, *first_token) : 0;
}

double RequestMetrics::decode_s() const {
  return first_token && last_token ? SecondsBetween(*first_token, *last_token) : 0;
}

double RequestMetrics::inference_s() const {
  return first_scheduled && last_token ? SecondsBetween(*first_scheduled, *last_token) : 0;
}

double RequestMetrics::e2e_s() const { return finished ? SecondsBetween(arrival, *finished) : 0; }

double RequestMetrics::ttft_s() const {
  return first_token ? SecondsBetween(arrival, *first_token) : 0;
}

void RequestOutput::MergeFrom(RequestOutput&& next) {
  for (auto& seq : next.sequences) {
    auto it = std::find_if(sequences.begin(), sequences.end(),
                           [&](const SequenceDelta& s) { return s.index == seq.index; });
    if (it == sequences.end()) {
      sequences.push_back(std::move(seq));
      continue;
    }
    it->token_ids.insert(it->token_ids.end(), seq.token_ids.begin(), seq.token_ids.end());
    it->token_times.insert(it->token_times.end(), seq.token_times.begin(), seq.token_times.end());
    for (auto& lp : seq.logprobs) it->logprobs.push_back(std::move(lp));
    it->text += seq.text;
    if (seq.finish_reason) {
      it->finish_reason = seq.finish_reason;
      it->stop_reason = std::move(seq.stop_reason);
    }
  }
  if (prompt_logprobs.empty()) prompt_logprobs = std::move(next.prompt_logprobs);
  finished = finished || next.finished;
  if (next.metrics) metrics = std::move(next.metrics);
  if (!next.error.ok()) error = std::move(next.error);
}

bool RequestStream::Next(RequestOutput* out) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return pending_.has_value() || finished_read_; });
  if (!pending_) return false;
  *out = std::move(*pending_);
  pending_.reset();
  if (out->finished) finished_read_ = true;
  return true;
}

std::optional<RequestOutput> RequestStream::TryNext() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!pending_) return std::nullopt;
  std::optional<RequestOutput> out = std::move(pending_);
  pending_.reset();
  if (out->finished) finished_read_ = true;
  return out;
}

void RequestStream::SetNotifier(std::function<void()> notifier) {
  std::lock_guard<std::mutex> lock(mu_);
  notifier_ = std::move(notifier);
}

void RequestStream::Push(RequestOutput&& update) {
  std::function<void()> notify;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (finished_pushed_) return;
    finished_pushed_ = update.finished;
    if (pending_) {
      pending_->MergeFrom(std::move(update));
    } else {
      update.request_id = request_id_;
      pending_ = std::move(update);
    }
    notify = notifier_;
  }
  cv_.notify_all();
  if (notify) notify();
}

}  // namespace lantern::engine
