// The JSON of the viewer's API (/ui/api/...), apart from the HTTP plumbing so that tests
// can read it directly: the request list with its filters, one trace as OTLP/JSON, and a
// snapshot of the /metrics families the charts draw.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ui/trace_ring.h"

namespace lantern::ui {

// The list's filters, from the query string of GET /ui/api/traces.
struct TraceFilter {
  size_t limit = 200;
  std::string route;   // exact http.route ("/v1/completions"); empty: any
  std::string status;  // "2xx", "4xx", "5xx", "error" (errors, aborts); empty: any
  double min_duration_ms = 0;
  std::string trace_id;           // a part of the trace id (hex); empty: any
  std::optional<uint64_t> since;  // the seq the caller has seen: unchanged -> no list
};

// Parses "limit=50&route=%2Fv1%2Fcompletions&min_ms=100&q=abc&status=5xx&since=12".
TraceFilter ParseTraceFilter(std::string_view query);
bool Matches(const TraceSummary& summary, const TraceFilter& filter);

// {"seq":N,"unchanged":true} when nothing was added since `filter.since`; else
// {"seq":N,"stats":{...},"traces":[{summary}...]}, newest first.
std::string TracesJson(const TraceRing& ring, const TraceFilter& filter);
std::string SummaryJson(const TraceSummary& summary);

// One ExportTraceServiceRequest (telemetry's OTLP/JSON encoder) holding the trace's spans
// and the engine_step spans linked to it; nullopt when the ring does not hold the trace.
std::optional<std::string> TraceOtlpJson(const TraceRing& ring, std::string_view trace_id_hex);

// The lantern:* families of a Prometheus text exposition, series of one family summed:
// {"time_unix_ms":T,"metrics":{"name":{"type":"counter|gauge","value":v} or
// {"type":"histogram","buckets":[[le,cumulative count]...],"sum":s,"count":c}}}
// (le of the last bucket is null: +Inf).
std::string MetricsSnapshotJson(std::string_view prometheus_text, int64_t time_unix_ms);

std::string PercentDecode(std::string_view text);

}  // namespace lantern::ui
