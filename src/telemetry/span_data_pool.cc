#include "telemetry/span_data_pool.h"

#include <mutex>
#include <vector>

namespace lantern::telemetry {
namespace {

constexpr size_t kLocalCapacity = 64;      // records cached per thread
constexpr size_t kTransfer = 32;           // moved to or from the reserve at a time
constexpr size_t kReserveCapacity = 2048;  // records in the shared reserve (a queue's worth)
// A recycled record keeps its buffers unless they grew unusually large.
constexpr size_t kMaxKeptAttributes = 64;
constexpr size_t kMaxKeptStringBytes = 256;
constexpr size_t kMaxSpareStrings = 16;

struct Reserve {
  std::mutex mu;
  std::vector<SpanData*> records;  // guarded by mu
};

// Never destroyed: spans may end while static destructors run at process exit.
Reserve& GetReserve() {
  static Reserve* reserve = [] {
    auto* r = new Reserve();
    r->records.reserve(kReserveCapacity);
    return r;
  }();
  return *reserve;
}

// Trivially destructible, so the hot path reads it without a TLS initialization check;
// the records left in it at thread exit go back to the reserve through LocalCacheOwner.
struct LocalCache {
  SpanData* records[kLocalCapacity];
  size_t count;
  bool owner_registered;
};
thread_local LocalCache t_cache;

// Moves records from the cache to the reserve until `keep` are left; frees what the
// reserve has no room for.
void Drain(LocalCache& cache, size_t keep) {
  Reserve& reserve = GetReserve();
  std::lock_guard<std::mutex> lock(reserve.mu);
  while (cache.count > keep) {
    SpanData* record = cache.records[--cache.count];
    if (reserve.records.size() < kReserveCapacity) {
      reserve.records.push_back(record);
    } else {
      delete record;
    }
  }
}

struct LocalCacheOwner {
  ~LocalCacheOwner() { Drain(t_cache, 0); }
};
thread_local LocalCacheOwner t_cache_owner;

void RegisterOwner(LocalCache& cache) {
  if (!cache.owner_registered) {
    (void)&t_cache_owner;  // constructs it, which schedules its destructor at thread exit
    cache.owner_registered = true;
  }
}

template <typename T>
void ClearVector(std::vector<T>& v, size_t max_kept) {
  if (v.capacity() > max_kept) {
    std::vector<T>().swap(v);
  } else {
    v.clear();
  }
}

void ClearString(std::string& s) {
  if (s.capacity() > kMaxKeptStringBytes) {
    std::string().swap(s);
  } else {
    s.clear();
  }
}

void Clear(SpanData& span) {
  span.trace_id = {};
  span.span_id = {};
  span.parent_span_id = {};
  ClearString(span.trace_state);
  span.flags = 0;
  ClearString(span.name);
  span.kind = SpanKind::kInternal;
  span.start_time_unix_nano = 0;
  span.end_time_unix_nano = 0;
  // String values' buffers are kept for the record's next span (Span::SetAttribute).
  for (Attribute& a : span.attributes) {
    if (auto* text = std::get_if<std::string>(&a.value)) {
      if (text->capacity() > 15 && text->capacity() <= kMaxKeptStringBytes &&
          span.spare_strings.size() < kMaxSpareStrings) {
        span.spare_strings.push_back(std::move(*text));
      }
    }
  }
  ClearVector(span.attributes, kMaxKeptAttributes);
  span.dropped_attributes_count = 0;
  ClearVector(span.events, 16);
  span.dropped_events_count = 0;
  ClearVector(span.links, 16);
  span.dropped_links_count = 0;
  span.status_code = StatusCode::kUnset;
  ClearString(span.status_message);
  span.attribute_key_filter = 0;
  span.resource.reset();
  span.scope.reset();
}

}  // namespace

std::unique_ptr<SpanData> AcquireSpanData() {
  LocalCache& cache = t_cache;
  if (cache.count == 0) {
    Reserve& reserve = GetReserve();
    std::lock_guard<std::mutex> lock(reserve.mu);
    while (cache.count < kTransfer && !reserve.records.empty()) {
      cache.records[cache.count++] = reserve.records.back();
      reserve.records.pop_back();
    }
  }
  if (cache.count == 0) return std::make_unique<SpanData>();
  RegisterOwner(cache);
  return std::unique_ptr<SpanData>(cache.records[--cache.count]);
}

void RecycleSpanData(std::unique_ptr<SpanData> span) {
  if (span == nullptr) return;
  Clear(*span);
  LocalCache& cache = t_cache;
  if (cache.count == kLocalCapacity) Drain(cache, kLocalCapacity - kTransfer);
  RegisterOwner(cache);
  cache.records[cache.count++] = span.release();
}

size_t SpanDataPoolReserveSize() {
  Reserve& reserve = GetReserve();
  std::lock_guard<std::mutex> lock(reserve.mu);
  return reserve.records.size();
}

}  // namespace lantern::telemetry
