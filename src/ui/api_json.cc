#include "ui/api_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "telemetry/ids.h"
#include "telemetry/otlp_json.h"

namespace lantern::ui {
namespace {

using nlohmann::json;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

template <typename Number>
std::optional<Number> ParseNumber(std::string_view text) {
  Number value{};
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Invalid UTF-8 (a truncated attribute) must not make the whole list fail to encode.
json Text(const std::string& text) { return text; }

}  // namespace

std::string PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
               HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

TraceFilter ParseTraceFilter(std::string_view query) {
  TraceFilter filter;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = pair.substr(0, eq);
    std::string value = PercentDecode(pair.substr(eq + 1));
    if (key == "limit") {
      if (auto n = ParseNumber<size_t>(value)) filter.limit = std::min<size_t>(*n, 10000);
    } else if (key == "route") {
      filter.route = value;
    } else if (key == "status") {
      filter.status = value;
    } else if (key == "min_ms") {
      if (auto n = ParseNumber<double>(value); n && std::isfinite(*n)) filter.min_duration_ms = *n;
    } else if (key == "q") {
      for (char& c : value) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      filter.trace_id = value;
    } else if (key == "since") {
      filter.since = ParseNumber<uint64_t>(value);
    }
  }
  return filter;
}

bool Matches(const TraceSummary& s, const TraceFilter& filter) {
  if (!filter.route.empty() && s.route != filter.route) return false;
  if (!filter.trace_id.empty() && s.trace_id.find(filter.trace_id) == std::string::npos) {
    return false;
  }
  if (s.duration_s * 1e3 < filter.min_duration_ms) return false;
  const std::string& st = filter.status;
  if (st == "error") return s.error || s.aborted;
  if (st.size() == 3 && st[1] == 'x' && st[2] == 'x') return s.status_code / 100 == st[0] - '0';
  return true;
}

std::string SummaryJson(const TraceSummary& s) {
  json j = {{"trace_id", s.trace_id},
            {"seq", s.seq},
            {"name", Text(s.name)},
            {"start_unix_nano", std::to_string(s.start_unix_nano)},
            {"start_ms", static_cast<double>(s.start_unix_nano) / 1e6},
            {"duration_s", s.duration_s},
            {"method", Text(s.method)},
            {"route", Text(s.route)},
            {"path", Text(s.path)},
            {"status_code", s.status_code},
            {"model", Text(s.model)},
            {"requests", s.requests},
            {"prompt_tokens", s.prompt_tokens},
            {"completion_tokens", s.completion_tokens},
            {"ttft_s", s.ttft_s ? json(*s.ttft_s) : json(nullptr)},
            {"e2e_s", s.e2e_s ? json(*s.e2e_s) : json(nullptr)},
            {"error", s.error},
            {"aborted", s.aborted},
            {"preemptions", s.preemptions},
            {"remote_parent", s.remote_parent},
            {"span_count", s.span_count},
            {"startup", s.startup}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string TracesJson(const TraceRing& ring, const TraceFilter& filter) {
  TraceRingStats stats = ring.stats();
  std::string out = "{\"seq\":" + std::to_string(stats.seq);
  if (filter.since && *filter.since == stats.seq) return out + ",\"unchanged\":true}";
  out += ",\"stats\":{\"traces\":" + std::to_string(stats.traces) +
         ",\"step_spans\":" + std::to_string(stats.step_spans) +
         ",\"bytes\":" + std::to_string(stats.bytes) +
         ",\"max_traces\":" + std::to_string(ring.options().max_traces) +
         ",\"max_bytes\":" + std::to_string(ring.options().max_bytes) +
         ",\"evicted_traces\":" + std::to_string(stats.evicted_traces) +
         ",\"dropped_spans\":" + std::to_string(stats.dropped_spans) + "}";
  out += ",\"traces\":[";
  size_t written = 0;
  // Filters look at every trace held, newest first, in batches: a page polling the newest
  // 200 of 1000 traces summarizes only those (the ring's lock is held while a batch's span
  // lists are copied, never while they are summarized).
  const size_t batch = std::max<size_t>(filter.limit, 64);
  for (size_t skip = 0; written < filter.limit; skip += batch) {
    std::vector<TraceSummary> summaries = ring.Summaries(batch, skip);
    for (const TraceSummary& s : summaries) {
      if (written == filter.limit) break;
      if (!Matches(s, filter)) continue;
      if (written++ > 0) out += ',';
      out += SummaryJson(s);
    }
    if (summaries.size() < batch) break;
  }
  return out + "]}";
}

std::optional<std::string> TraceOtlpJson(const TraceRing& ring, std::string_view trace_id_hex) {
  telemetry::TraceId id{};
  if (!telemetry::ParseHex(trace_id_hex, &id)) return std::nullopt;
  std::vector<SpanPtr> steps;
  std::vector<SpanPtr> spans = ring.Trace(id, &steps);
  if (spans.empty()) return std::nullopt;
  std::vector<const telemetry::SpanData*> all;
  for (const SpanPtr& s : spans) all.push_back(s.get());
  for (const SpanPtr& s : steps) all.push_back(s.get());
  std::string out;
  telemetry::AppendOtlpJson(all, &out);
  return out;
}

std::string MetricsSnapshotJson(std::string_view text, int64_t time_unix_ms) {
  struct Family {
    std::string type;
    double value = 0, sum = 0, count = 0;
    std::map<double, double> buckets;  // le -> cumulative count (summed over series)
  };
  std::map<std::string, Family> families;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (line.rfind("# TYPE ", 0) == 0) {
      std::string_view rest = line.substr(7);
      size_t space = rest.find(' ');
      if (space == std::string_view::npos) continue;
      std::string name(rest.substr(0, space));
      if (name.rfind("lantern:", 0) == 0) families[name].type = rest.substr(space + 1);
      continue;
    }
    if (line.empty() || line[0] == '#' || line.rfind("lantern:", 0) != 0) continue;
    size_t name_end = line.find_first_of("{ ");
    size_t value_start = line.rfind(' ');
    if (name_end == std::string_view::npos || value_start == std::string_view::npos) continue;
    std::string name(line.substr(0, name_end));
    std::string_view labels = line[name_end] == '{'
                                  ? line.substr(name_end, line.find('}', name_end) - name_end)
                                  : std::string_view();
    double value = std::strtod(std::string(line.substr(value_start + 1)).c_str(), nullptr);
    auto strip = [&name](std::string_view suffix) {
      if (name.size() > suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        name.resize(name.size() - suffix.size());
        return true;
      }
      return false;
    };
    if (families.contains(name) && families[name].type != "histogram") {
      families[name].value += value;
    } else if (strip("_bucket")) {
      size_t le = labels.find("le=\"");
      if (le == std::string_view::npos) continue;
      std::string_view bound = labels.substr(le + 4);
      bound = bound.substr(0, bound.find('"'));
      double upper = bound == "+Inf" ? INFINITY : std::strtod(std::string(bound).c_str(), nullptr);
      families[name].buckets[upper] += value;
    } else if (strip("_sum")) {
      families[name].sum += value;
    } else if (strip("_count")) {
      families[name].count += value;
    }
  }
  json metrics = json::object();
  for (const auto& [name, f] : families) {
    if (f.type == "histogram") {
      json buckets = json::array();
      for (const auto& [le, count] : f.buckets) {
        buckets.push_back({std::isinf(le) ? json(nullptr) : json(le), count});
      }
      metrics[name] = {{"type", f.type}, {"buckets", buckets}, {"sum", f.sum}, {"count", f.count}};
    } else if (!f.type.empty()) {
      metrics[name] = {{"type", f.type}, {"value", f.value}};
    }
  }
  return json{{"time_unix_ms", time_unix_ms}, {"metrics", metrics}}.dump();
}

}  // namespace lantern::ui
