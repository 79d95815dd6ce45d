#include "ui/trace_ring.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "telemetry/ids.h"
#include "telemetry/span_data_pool.h"

namespace lantern::ui {
namespace {

using telemetry::Attribute;
using telemetry::Attributes;
using telemetry::AttributeValue;
using telemetry::SpanData;

// Memory a std::string holds beyond its own object (short strings live inside it).
size_t HeapBytes(const std::string& s) { return s.capacity() > 15 ? s.capacity() + 1 : 0; }

size_t ValueBytes(const AttributeValue& value) {
  return std::visit(
      [](const auto& v) -> size_t {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return HeapBytes(v);
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          size_t n = v.capacity() * sizeof(std::string);
          for (const auto& s : v) n += HeapBytes(s);
          return n;
        } else if constexpr (std::is_same_v<T, std::vector<bool>>) {
          return v.capacity() / 8 + 8;
        } else if constexpr (std::is_same_v<T, std::vector<int64_t>> ||
                             std::is_same_v<T, std::vector<double>>) {
          return v.capacity() * sizeof(typename T::value_type);
        } else {
          return 0;
        }
      },
      value);
}

size_t AttributesBytes(const Attributes& attributes) {
  size_t n = attributes.capacity() * sizeof(Attribute);
  for (const Attribute& a : attributes) {
    if (!a.key.is_literal()) n += a.key.size() + 1;
    n += ValueBytes(a.value);
  }
  return n;
}

// The viewer's own polling must not push the requests out of the ring.
bool IsViewerRequest(const SpanData& span) {
  if (span.kind != telemetry::SpanKind::kServer) return false;
  for (const Attribute& a : span.attributes) {
    if (a.key == std::string_view("url.path")) {
      const auto* path = std::get_if<std::string>(&a.value);
      return path != nullptr && (*path == "/ui" || path->rfind("/ui/", 0) == 0);
    }
  }
  return false;
}

bool IsLocalRoot(const SpanData& span, const std::vector<SpanPtr>& spans) {
  if (!telemetry::IsValid(span.parent_span_id)) return true;
  for (const SpanPtr& other : spans) {
    if (other->span_id == span.parent_span_id) return false;
  }
  return true;
}

class TraceRingProcessor : public telemetry::SpanProcessor {
 public:
  explicit TraceRingProcessor(std::shared_ptr<TraceRing> ring) : ring_(std::move(ring)) {}
  void OnEnd(std::unique_ptr<SpanData> span) override { ring_->Add(std::move(span)); }
  bool ForceFlush(std::chrono::microseconds) override { return true; }
  bool Shutdown(std::chrono::microseconds) override { return true; }

 private:
  std::shared_ptr<TraceRing> ring_;
};

}  // namespace

size_t TraceRing::IdHash::operator()(const telemetry::TraceId& id) const {
  uint64_t word;
  std::memcpy(&word, id.data() + 8, sizeof word);  // random bits: any 8 of them will do
  return static_cast<size_t>(word);
}

TraceRing::TraceRing(TraceRingOptions options) : options_(options) {}

size_t TraceRing::EstimateBytes(const SpanData& span) {
  size_t n = sizeof(SpanData) + 64;  // the record, its shared_ptr block and list share
  n += HeapBytes(span.name) + HeapBytes(span.trace_state) + HeapBytes(span.status_message);
  n += AttributesBytes(span.attributes);
  n += span.events.capacity() * sizeof(telemetry::SpanEvent);
  for (const auto& event : span.events) {
    n += HeapBytes(event.name) + AttributesBytes(event.attributes);
  }
  n += span.links.capacity() * sizeof(telemetry::SpanLink);
  for (const auto& link : span.links) {
    n += HeapBytes(link.trace_state) + AttributesBytes(link.attributes);
  }
  return n;
}

void TraceRing::Add(std::unique_ptr<SpanData> span) {
  if (span == nullptr || IsViewerRequest(*span)) {
    telemetry::RecycleSpanData(std::move(span));
    return;
  }
  // The pool's spare buffers would be memory the budget does not see.
  span->spare_strings.clear();
  span->spare_strings.shrink_to_fit();
  const size_t bytes = EstimateBytes(*span);
  const bool step = span->name == "engine_step" && !telemetry::IsValid(span->parent_span_id);
  const bool startup_root = span->name == "lantern.startup";
  SpanPtr kept(span.release(), [](const SpanData* done) {
    telemetry::RecycleSpanData(std::unique_ptr<SpanData>(const_cast<SpanData*>(done)));
  });
  std::lock_guard lock(mu_);
  if (bytes > options_.max_bytes) {
    ++dropped_;
    return;
  }
  const uint64_t seq = ++seq_;
  if (step) {
    entries_.push_back(Entry{kept->trace_id, seq, bytes, true, {std::move(kept)}});
    ++steps_;
  } else {
    auto found = index_.find(kept->trace_id);
    if (found == index_.end()) {
      entries_.push_back(Entry{kept->trace_id, seq, 0, false, {}});
      found = index_.emplace(kept->trace_id, std::prev(entries_.end())).first;
      ++traces_;
    }
    Entry& entry = *found->second;
    entry.seq = seq;
    entry.bytes += bytes;
    entry.spans.push_back(std::move(kept));
    if (startup_root) startup_ = entry.id;
  }
  bytes_ += bytes;
  EvictLocked();
}

void TraceRing::EraseLocked(EntryList::iterator it) {
  bytes_ -= it->bytes;
  if (it->step) {
    --steps_;
  } else {
    --traces_;
    index_.erase(it->id);
    if (startup_ && *startup_ == it->id) startup_.reset();
  }
  ++evicted_;
  entries_.erase(it);
}

void TraceRing::EvictLocked() {
  // The start-up trace stays while anything else can go: it answers "where did the cold
  // start go" however long the server has run.
  auto is_startup = [this](const Entry& e) { return !e.step && startup_ && *startup_ == e.id; };
  const size_t request_traces = traces_ - (startup_ ? 1 : 0);
  size_t over_traces =
      request_traces > options_.max_traces ? request_traces - options_.max_traces : 0;
  size_t over_steps = steps_ > options_.max_step_spans ? steps_ - options_.max_step_spans : 0;
  for (auto it = entries_.begin(); it != entries_.end() && (over_traces > 0 || over_steps > 0 ||
                                                            bytes_ > options_.max_bytes);) {
    const bool bytes_over = bytes_ > options_.max_bytes;
    bool erase = false;
    if (it->step) {
      erase = over_steps > 0 || bytes_over;
      if (erase && over_steps > 0) --over_steps;
    } else if (!is_startup(*it)) {
      erase = over_traces > 0 || bytes_over;
      if (erase && over_traces > 0) --over_traces;
    }
    if (erase) {
      auto next = std::next(it);
      EraseLocked(it);
      it = next;
    } else {
      ++it;
    }
  }
  // Only the start-up trace left and still over: it goes too.
  while (bytes_ > options_.max_bytes && !entries_.empty()) EraseLocked(entries_.begin());
}

std::vector<TraceSummary> TraceRing::Summaries(size_t limit, size_t skip) const {
  std::vector<std::pair<uint64_t, std::vector<SpanPtr>>> picked;
  {
    std::lock_guard lock(mu_);
    for (auto it = entries_.rbegin(); it != entries_.rend() && picked.size() < limit; ++it) {
      if (it->step) continue;
      if (skip > 0) {
        --skip;
        continue;
      }
      picked.emplace_back(it->seq, it->spans);
    }
  }
  // Summaries are made outside the lock: the request path never waits on the page.
  std::vector<TraceSummary> out;
  out.reserve(picked.size());
  for (auto& [seq, spans] : picked) {
    out.push_back(Summarize(spans));
    out.back().seq = seq;
  }
  return out;
}

std::vector<SpanPtr> TraceRing::Trace(const telemetry::TraceId& id,
                                      std::vector<SpanPtr>* steps) const {
  std::lock_guard lock(mu_);
  std::vector<SpanPtr> spans;
  auto found = index_.find(id);
  if (found == index_.end()) return spans;
  spans = found->second->spans;
  if (steps != nullptr) {
    for (const Entry& entry : entries_) {
      if (!entry.step) continue;
      for (const auto& link : entry.spans.front()->links) {
        if (link.trace_id == id) {
          steps->push_back(entry.spans.front());
          break;
        }
      }
    }
  }
  return spans;
}

std::optional<telemetry::TraceId> TraceRing::startup_trace() const {
  std::lock_guard lock(mu_);
  return startup_;
}

TraceRingStats TraceRing::stats() const {
  std::lock_guard lock(mu_);
  return TraceRingStats{traces_, steps_, bytes_, seq_, evicted_, dropped_};
}

TraceSummary Summarize(const std::vector<SpanPtr>& spans) {
  TraceSummary s;
  if (spans.empty()) return s;
  s.trace_id = telemetry::ToHex(spans.front()->trace_id);
  s.span_count = spans.size();
  s.start_unix_nano = spans.front()->start_time_unix_nano;
  const SpanData* root = nullptr;
  const SpanData* http = nullptr;
  for (const SpanPtr& span : spans) {
    s.start_unix_nano = std::min(s.start_unix_nano, span->start_time_unix_nano);
    s.end_unix_nano = std::max(s.end_unix_nano, span->end_time_unix_nano);
    if (span->status_code == telemetry::StatusCode::kError) s.error = true;
    if (IsLocalRoot(*span, spans) &&
        (root == nullptr || span->start_time_unix_nano < root->start_time_unix_nano)) {
      root = span.get();
    }
    if (span->kind == telemetry::SpanKind::kServer && http == nullptr) http = span.get();
    if (span->name == "lantern.startup") s.startup = true;
    const bool request = span->name == "llm_request";
    if (request) ++s.requests;
    for (const Attribute& a : span->attributes) {
      const std::string_view key = a.key;
      const auto* text = std::get_if<std::string>(&a.value);
      const auto* integer = std::get_if<int64_t>(&a.value);
      const auto* real = std::get_if<double>(&a.value);
      if (key == "error.type" && text != nullptr &&
          (*text == "aborted" || *text == "client_disconnected")) {
        s.aborted = true;
      }
      if (!request) continue;
      if (key == "gen_ai.request.model" && text != nullptr && s.model.empty()) s.model = *text;
      if (key == "gen_ai.usage.prompt_tokens" && integer) s.prompt_tokens += *integer;
      if (key == "gen_ai.usage.completion_tokens" && integer) s.completion_tokens += *integer;
      if (key == "lantern.request.preemptions" && integer) s.preemptions += *integer;
      // Several prompts in one HTTP request: the first token of any and the last end.
      if (key == "gen_ai.latency.time_to_first_token" && real) {
        s.ttft_s = s.ttft_s ? std::min(*s.ttft_s, *real) : *real;
      }
      if (key == "gen_ai.latency.e2e" && real)
        s.e2e_s = s.e2e_s ? std::max(*s.e2e_s, *real) : *real;
    }
  }
  if (root != nullptr) {
    s.name = root->name;
    s.remote_parent = telemetry::IsValid(root->parent_span_id);
  }
  s.duration_s = static_cast<double>(s.end_unix_nano - s.start_unix_nano) / 1e9;
  if (http != nullptr) {
    s.duration_s = static_cast<double>(http->end_time_unix_nano - http->start_time_unix_nano) / 1e9;
    for (const Attribute& a : http->attributes) {
      const std::string_view key = a.key;
      if (const auto* text = std::get_if<std::string>(&a.value)) {
        if (key == "http.request.method") s.method = *text;
        if (key == "http.route") s.route = *text;
        if (key == "url.path") s.path = *text;
      } else if (const auto* integer = std::get_if<int64_t>(&a.value)) {
        if (key == "http.response.status_code") s.status_code = *integer;
      }
    }
    if (s.status_code >= 500) s.error = true;
  }
  return s;
}

std::unique_ptr<telemetry::SpanProcessor> MakeTraceRingProcessor(std::shared_ptr<TraceRing> ring) {
  return std::make_unique<TraceRingProcessor>(std::move(ring));
}

}  // namespace lantern::ui
