#include "telemetry/tail_sampling.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <limits>
#include <list>
#include <mutex>
#include <unordered_map>

#include "base/log.h"
#include "telemetry/health.h"
#include "telemetry/span_context.h"
#include "telemetry/span_data_pool.h"

namespace lantern::telemetry {
namespace {

class TailSampler : public Sampler {
 public:
  explicit TailSampler(const TailSamplingOptions& options) : options_(options) {}

  SamplingResult ShouldSample(const SpanContext& parent, const TraceId&, std::string_view, SpanKind,
                              const Attributes&) const override {
    // A sampled parent (the caller's, or a local span under one) is kept for sure; the rest
    // records without the sampled flag until the processor decides.
    if (parent.IsValid() && parent.IsSampled()) {
      return {SamplingDecision::kRecordAndSample, {}, std::nullopt};
    }
    return {SamplingDecision::kRecordOnly, {}, std::nullopt};
  }

  const TailSamplingOptions& options() const { return options_; }

  std::string Description() const override {
    char text[160];
    std::snprintf(text, sizeof text,
                  "LanternTail{ratio=%.6f,latency_ms=%lld,ttft_ms=%lld,errors=%d,aborts=%d}",
                  options_.ratio, static_cast<long long>(options_.latency_ms),
                  static_cast<long long>(options_.ttft_ms), options_.errors ? 1 : 0,
                  options_.aborts ? 1 : 0);
    return text;
  }

 private:
  TailSamplingOptions options_;
};

bool ParseBool(std::string_view value, bool* out) {
  std::string v = AsciiLower(value);
  if (v == "1" || v == "true" || v == "on") return *out = true, true;
  if (v == "0" || v == "false" || v == "off") return *out = false, true;
  return false;
}

template <typename Int>
bool ParseCount(std::string_view value, Int* out) {
  std::string text(value);
  char* end = nullptr;
  errno = 0;
  unsigned long long n = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || text[0] == '-' || end != text.c_str() + text.size() || errno != 0 ||
      n > static_cast<unsigned long long>(std::numeric_limits<Int>::max())) {
    return false;
  }
  *out = static_cast<Int>(n);
  return true;
}

// Why a trace is kept; any bit keeps it.
enum Reason : uint32_t { kError = 1, kAborted = 2, kSlow = 4, kForced = 8 };

const Attribute* FindAttribute(const Attributes& attributes, std::string_view key) {
  for (const Attribute& a : attributes) {
    if (a.key.view() == key) return &a;
  }
  return nullptr;
}

bool IsAbortType(std::string_view type) {
  return type == "aborted" || type == "client_disconnected" || type == "cancelled";
}

int64_t UpperBound(double ratio) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (!(ratio > 0.0)) return std::numeric_limits<int64_t>::min();
  if (ratio >= 1.0) return kMax;
  return static_cast<int64_t>(ratio * static_cast<double>(kMax));
}

size_t StringBytes(const std::string& s) {
  // Short strings live inside the object (libstdc++'s 15-byte buffer).
  return s.capacity() > 15 ? s.capacity() + 1 : 0;
}

size_t AttributesBytes(const Attributes& attributes) {
  size_t bytes = attributes.capacity() * sizeof(Attribute);
  for (const Attribute& a : attributes) {
    if (!a.key.is_literal()) bytes += a.key.size() + 1;
    if (const auto* s = std::get_if<std::string>(&a.value)) bytes += StringBytes(*s);
    if (const auto* v = std::get_if<std::vector<std::string>>(&a.value)) {
      bytes += v->capacity() * sizeof(std::string);
      for (const std::string& s : *v) bytes += StringBytes(s);
    }
    if (const auto* v = std::get_if<std::vector<int64_t>>(&a.value)) bytes += v->capacity() * 8;
    if (const auto* v = std::get_if<std::vector<double>>(&a.value)) bytes += v->capacity() * 8;
    if (const auto* v = std::get_if<std::vector<bool>>(&a.value)) bytes += v->capacity() / 8;
  }
  return bytes;
}

struct TraceIdHash {
  size_t operator()(const TraceId& id) const {
    uint64_t h = 0;
    for (int i = 8; i < 16; ++i) h = h << 8 | id[i];
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

}  // namespace

TailSamplingOptions ParseTailSamplingArg(std::string_view arg) {
  TailSamplingOptions options;
  size_t pos = 0;
  while (pos <= arg.size()) {
    size_t comma = arg.find(',', pos);
    if (comma == std::string_view::npos) comma = arg.size();
    std::string_view pair = TrimWhitespace(arg.substr(pos, comma - pos));
    pos = comma + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string key = AsciiLower(TrimWhitespace(pair.substr(0, eq)));
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : TrimWhitespace(pair.substr(eq + 1));
    bool ok = false;
    if (key == "ratio") {
      std::string text(value);
      char* end = nullptr;
      double ratio = std::strtod(text.c_str(), &end);
      ok = !text.empty() && end == text.c_str() + text.size() && std::isfinite(ratio) &&
           ratio >= 0.0 && ratio <= 1.0;
      if (ok) options.ratio = ratio;
    } else if (key == "latency_ms") {
      ok = ParseCount(value, &options.latency_ms);
    } else if (key == "ttft_ms") {
      ok = ParseCount(value, &options.ttft_ms);
    } else if (key == "errors") {
      ok = ParseBool(value, &options.errors);
    } else if (key == "client_errors") {
      ok = ParseBool(value, &options.client_errors);
    } else if (key == "aborts") {
      ok = ParseBool(value, &options.aborts);
    } else if (key == "buffer_spans") {
      ok = ParseCount(value, &options.buffer_spans) && options.buffer_spans > 0;
      if (!ok) options.buffer_spans = TailSamplingOptions().buffer_spans;
    } else if (key == "buffer_mib") {
      ok = ParseCount(value, &options.buffer_mib) && options.buffer_mib > 0;
      if (!ok) options.buffer_mib = TailSamplingOptions().buffer_mib;
    } else if (key == "decided_traces") {
      ok = ParseCount(value, &options.decided_traces);
    } else {
      LANTERN_LOG(kWarning, "telemetry")
          << "OTEL_TRACES_SAMPLER_ARG: \"" << key
          << "\" is not a lantern_tail setting (ratio, latency_ms, ttft_ms, errors, "
             "client_errors, aborts, buffer_spans, buffer_mib, decided_traces); ignored";
      continue;
    }
    if (!ok) {
      LANTERN_LOG(kWarning, "telemetry") << "OTEL_TRACES_SAMPLER_ARG: " << key << "=\"" << value
                                         << "\" is not a valid value; using the default";
    }
  }
  return options;
}

std::unique_ptr<Sampler> MakeTailSampler(const TailSamplingOptions& options) {
  return std::make_unique<TailSampler>(options);
}

const TailSamplingOptions* TailSamplingOptionsOf(const Sampler& sampler) {
  const auto* tail = dynamic_cast<const TailSampler*>(&sampler);
  return tail != nullptr ? &tail->options() : nullptr;
}

size_t HeldSpanBytes(const SpanData& span) {
  size_t bytes = sizeof(SpanData) + StringBytes(span.name) + StringBytes(span.trace_state) +
                 StringBytes(span.status_message) + AttributesBytes(span.attributes);
  bytes += span.events.capacity() * sizeof(SpanEvent);
  for (const SpanEvent& e : span.events)
    bytes += StringBytes(e.name) + AttributesBytes(e.attributes);
  bytes += span.links.capacity() * sizeof(SpanLink);
  for (const SpanLink& l : span.links) {
    bytes += StringBytes(l.trace_state) + AttributesBytes(l.attributes);
  }
  bytes += span.spare_strings.capacity() * sizeof(std::string);
  for (const std::string& s : span.spare_strings) bytes += StringBytes(s);
  return bytes;
}

struct TailSamplingSpanProcessor::State {
  enum class Decision : uint8_t { kKept, kDropped, kDroppedEarly };
  struct Trace {
    std::vector<std::unique_ptr<SpanData>> spans;
    size_t bytes = 0;
    uint32_t reasons = 0;
    std::list<TraceId>::iterator order;
  };
  // What to do outside the lock.
  struct Outcome {
    std::vector<std::unique_ptr<SpanData>> keep;
    std::vector<std::unique_ptr<SpanData>> drop;
  };

  State(TailSamplingOptions o, std::vector<std::unique_ptr<SpanProcessor>> n)
      : options(o),
        ratio_bound(UpperBound(o.ratio)),
        buffer_bytes(o.buffer_mib << 20),
        next(std::move(n)) {}

  const TailSamplingOptions options;
  const int64_t ratio_bound;
  const size_t buffer_bytes;
  std::vector<std::unique_ptr<SpanProcessor>> next;

  mutable std::mutex mu;
  std::unordered_map<TraceId, Trace, TraceIdHash> held;        // guarded by mu
  std::list<TraceId> order;                                    // oldest first; guarded by mu
  size_t held_spans = 0;                                       // guarded by mu
  size_t held_bytes = 0;                                       // guarded by mu
  std::unordered_map<TraceId, Decision, TraceIdHash> decided;  // guarded by mu
  std::deque<TraceId> decided_order;                           // guarded by mu
  bool shut_down = false;                                      // guarded by mu

  uint32_t Qualify(const SpanData& span, bool local_root) const {
    uint32_t reasons = 0;
    const Attribute* type = FindAttribute(span.attributes, "error.type");
    const std::string* type_text = type ? std::get_if<std::string>(&type->value) : nullptr;
    bool aborted = type_text != nullptr && IsAbortType(*type_text);
    for (const SpanEvent& e : span.events) aborted = aborted || e.name == "aborted";
    if (aborted) {
      if (options.aborts) reasons |= kAborted;
    } else if (span.status_code == StatusCode::kError || type != nullptr) {
      if (options.errors) reasons |= kError;
    }
    if (const Attribute* a = FindAttribute(span.attributes, "http.response.status_code")) {
      if (const auto* code = std::get_if<int64_t>(&a->value)) {
        if ((*code >= 500 && options.errors) || (*code >= 400 && options.client_errors)) {
          reasons |= kError;
        }
      }
    }
    if (options.ttft_ms > 0) {
      if (const Attribute* a =
              FindAttribute(span.attributes, "gen_ai.latency.time_to_first_token")) {
        const auto* seconds = std::get_if<double>(&a->value);
        if (seconds != nullptr && *seconds * 1000.0 >= static_cast<double>(options.ttft_ms)) {
          reasons |= kSlow;
        }
      }
    }
    if (local_root && options.latency_ms > 0 &&
        span.end_time_unix_nano - span.start_time_unix_nano >= options.latency_ms * 1000000) {
      reasons |= kSlow;
    }
    if (const Attribute* a = FindAttribute(span.attributes, kForceKeepAttribute)) {
      const auto* priority = std::get_if<int64_t>(&a->value);
      const auto* flag = std::get_if<bool>(&a->value);
      if ((priority != nullptr && *priority > 0) || (flag != nullptr && *flag)) reasons |= kForced;
    }
    return reasons;
  }

  void Remember(const TraceId& id, Decision decision) {
    auto [it, inserted] = decided.try_emplace(id, decision);
    if (!inserted) {
      it->second = decision;
      return;
    }
    decided_order.push_back(id);
    while (decided_order.size() > options.decided_traces) {
      decided.erase(decided_order.front());
      decided_order.pop_front();
    }
  }

  // Moves the held trace's spans to `out` and forgets it; returns whether it was kept.
  bool Decide(std::unordered_map<TraceId, Trace, TraceIdHash>::iterator it, bool early,
              Outcome& out) {
    Trace& trace = it->second;
    const bool keep = trace.reasons != 0 || TraceIdRatioSampled(it->first, ratio_bound);
    held_spans -= trace.spans.size();
    held_bytes -= trace.bytes;
    RecordTailDecision(keep, early, keep ? 0 : trace.spans.size());
    auto& into = keep ? out.keep : out.drop;
    for (auto& span : trace.spans) into.push_back(std::move(span));
    Remember(it->first, keep    ? Decision::kKept
                        : early ? Decision::kDroppedEarly
                                : Decision::kDropped);
    order.erase(trace.order);
    held.erase(it);
    return keep;
  }

  void OnEnd(std::unique_ptr<SpanData> span, Outcome& out) {
    const bool local_root =
        !IsValid(span->parent_span_id) || (span->flags & kSpanFlagsIsRemote) != 0;
    const uint32_t reasons = Qualify(*span, local_root);
    std::lock_guard lock(mu);
    if (shut_down) {
      RecordSpansDropped(DropReason::kShutdown, 1);
      out.drop.push_back(std::move(span));
      return;
    }
    if (auto d = decided.find(span->trace_id); d != decided.end()) {
      // A span that ended after its trace was decided follows the decision, except that a
      // span that qualifies on its own (its trace was dropped early, or the root ended
      // before the span that failed or was slow) keeps itself and what follows.
      if (d->second != Decision::kKept && reasons != 0) d->second = Decision::kKept;
      if (d->second == Decision::kKept) {
        out.keep.push_back(std::move(span));
      } else {
        RecordTailSpansDropped(1);
        out.drop.push_back(std::move(span));
      }
      return;
    }
    auto [it, inserted] = held.try_emplace(span->trace_id);
    Trace& trace = it->second;
    if (inserted) trace.order = order.insert(order.end(), span->trace_id);
    trace.reasons |= reasons;
    const size_t bytes = HeldSpanBytes(*span);
    trace.spans.push_back(std::move(span));
    trace.bytes += bytes;
    held_spans += 1;
    held_bytes += bytes;
    if (local_root) {
      Decide(it, /*early=*/false, out);
      return;
    }
    while ((held_spans > options.buffer_spans || held_bytes > buffer_bytes) && !order.empty()) {
      Decide(held.find(order.front()), /*early=*/true, out);
    }
  }

  void Forward(Outcome& out) {
    for (auto& span : out.drop) RecycleSpanData(std::move(span));
    for (auto& span : out.keep) {
      span->flags |= kTraceFlagSampled;
      for (size_t i = 0; i + 1 < next.size(); ++i) {
        std::unique_ptr<SpanData> copy = AcquireSpanData();
        *copy = *span;
        next[i]->OnEnd(std::move(copy));
      }
      if (next.empty()) {
        RecycleSpanData(std::move(span));
      } else {
        next.back()->OnEnd(std::move(span));
      }
    }
  }
};

TailSamplingSpanProcessor::TailSamplingSpanProcessor(
    TailSamplingOptions options, std::vector<std::unique_ptr<SpanProcessor>> next)
    : state_(std::make_unique<State>(options, std::move(next))) {}

TailSamplingSpanProcessor::~TailSamplingSpanProcessor() { Shutdown(std::chrono::seconds(5)); }

void TailSamplingSpanProcessor::OnEnd(std::unique_ptr<SpanData> span) {
  State::Outcome out;
  if ((span->flags & kTraceFlagSampled) != 0) {
    // Under a sampled parent: kept whatever happens, so not held.
    const bool local_root =
        !IsValid(span->parent_span_id) || (span->flags & kSpanFlagsIsRemote) != 0;
    if (local_root) RecordTailDecision(true, false, 0);
    out.keep.push_back(std::move(span));
  } else {
    state_->OnEnd(std::move(span), out);
  }
  state_->Forward(out);
}

bool TailSamplingSpanProcessor::ForceFlush(std::chrono::microseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool ok = true;
  for (auto& p : state_->next) {
    auto left = std::chrono::duration_cast<std::chrono::microseconds>(
        deadline - std::chrono::steady_clock::now());
    ok = p->ForceFlush(std::max(left, std::chrono::microseconds(0))) && ok;
  }
  return ok;
}

bool TailSamplingSpanProcessor::Shutdown(std::chrono::microseconds timeout) {
  State& s = *state_;
  State::Outcome out;
  {
    std::lock_guard lock(s.mu);
    if (s.shut_down) return true;
    while (!s.order.empty()) s.Decide(s.held.find(s.order.front()), /*early=*/true, out);
    s.shut_down = true;
  }
  s.Forward(out);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool ok = true;
  for (auto& p : s.next) {
    auto left = std::chrono::duration_cast<std::chrono::microseconds>(
        deadline - std::chrono::steady_clock::now());
    ok = p->Shutdown(std::max(left, std::chrono::microseconds(0))) && ok;
  }
  return ok;
}

TailSamplingSpanProcessor::Held TailSamplingSpanProcessor::held() const {
  std::lock_guard lock(state_->mu);
  return {state_->held.size(), state_->held_spans, state_->held_bytes};
}

}  // namespace lantern::telemetry
