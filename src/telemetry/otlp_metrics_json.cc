// AppendOtlpMetricsJson (otlp_metrics.h): the protobuf JSON mapping with OTLP's rules —
// lowerCamelCase keys, trace/span ids as hex, 64-bit integers (fixed64, sfixed64) as
// decimal strings, enums as integers.
#include <nlohmann/json.hpp>

#include "telemetry/ids.h"
#include "telemetry/otlp_json_value.h"
#include "telemetry/otlp_metrics.h"

namespace lantern::telemetry {
namespace {

using nlohmann::json;

using otlp_json::AnyValue;
using otlp_json::Double;
using otlp_json::Hex;

json AttributesJson(const telemetry::Attributes& attributes) {
  json out = json::array();
  for (const Attribute& attribute : attributes) {
    out.push_back({{"key", std::string(std::string_view(attribute.key))},
                   {"value", AnyValue(attribute.value)}});
  }
  return out;
}

json Exemplars(const std::vector<Exemplar>& exemplars, bool integer) {
  json out = json::array();
  for (const Exemplar& exemplar : exemplars) {
    json e = {{"timeUnixNano", std::to_string(exemplar.time_unix_nano)}};
    if (integer) {
      e["asInt"] = std::to_string(static_cast<int64_t>(exemplar.value));
    } else {
      e["asDouble"] = Double(exemplar.value);
    }
    if (IsValid(exemplar.trace_id)) e["traceId"] = Hex(exemplar.trace_id);
    if (IsValid(exemplar.span_id)) e["spanId"] = Hex(exemplar.span_id);
    out.push_back(std::move(e));
  }
  return out;
}

json Counts(const std::vector<uint64_t>& counts) {
  json out = json::array();
  for (uint64_t count : counts) out.push_back(std::to_string(count));
  return out;
}

json Point(const MetricData& metric, const PointData& point) {
  json p = {{"attributes", AttributesJson(point.attributes)},
            {"timeUnixNano", std::to_string(point.time_unix_nano)}};
  if (point.start_time_unix_nano != 0) {
    p["startTimeUnixNano"] = std::to_string(point.start_time_unix_nano);
  }
  const bool integer = metric.integer;
  if (metric.type == MetricDataType::kSum || metric.type == MetricDataType::kGauge) {
    if (integer) {
      p["asInt"] = std::to_string(static_cast<int64_t>(point.value));
    } else {
      p["asDouble"] = Double(point.value);
    }
    if (!point.exemplars.empty()) p["exemplars"] = Exemplars(point.exemplars, integer);
    return p;
  }
  p["count"] = std::to_string(point.count);
  p["sum"] = Double(point.value);
  if (point.count > 0) {
    p["min"] = Double(point.min);
    p["max"] = Double(point.max);
  }
  if (!point.exemplars.empty()) p["exemplars"] = Exemplars(point.exemplars, false);
  if (metric.type == MetricDataType::kHistogram) {
    p["bucketCounts"] = Counts(point.histogram.counts);
    json bounds = json::array();
    for (double bound : point.histogram.bounds) bounds.push_back(Double(bound));
    p["explicitBounds"] = bounds;
    return p;
  }
  const ExponentialHistogramPointData& e = point.exponential;
  p["scale"] = e.scale;
  p["zeroCount"] = std::to_string(e.zero_count);
  p["positive"] = {{"offset", e.positive.offset}, {"bucketCounts", Counts(e.positive.counts)}};
  p["negative"] = {{"offset", e.negative.offset}, {"bucketCounts", Counts(e.negative.counts)}};
  return p;
}

json Metric(const MetricData& metric) {
  json points = json::array();
  for (const PointData& point : metric.points) points.push_back(Point(metric, point));
  json data = {{"dataPoints", points}};
  if (metric.type != MetricDataType::kGauge) {
    data["aggregationTemporality"] = static_cast<int>(metric.temporality);
  }
  if (metric.type == MetricDataType::kSum) data["isMonotonic"] = metric.monotonic;
  json m = {{"name", metric.name}};
  if (!metric.description.empty()) m["description"] = metric.description;
  if (!metric.unit.empty()) m["unit"] = metric.unit;
  switch (metric.type) {
    case MetricDataType::kSum:
      m["sum"] = std::move(data);
      break;
    case MetricDataType::kGauge:
      m["gauge"] = std::move(data);
      break;
    case MetricDataType::kHistogram:
      m["histogram"] = std::move(data);
      break;
    case MetricDataType::kExponentialHistogram:
      m["exponentialHistogram"] = std::move(data);
      break;
  }
  return m;
}

}  // namespace

void AppendOtlpMetricsJson(const ResourceMetrics& metrics, std::string* out) {
  json scopes = json::array();
  for (const ScopeMetrics& scope_metrics : metrics.scopes) {
    json scope = json::object();
    if (scope_metrics.scope != nullptr) {
      scope["name"] = scope_metrics.scope->name;
      if (!scope_metrics.scope->version.empty()) scope["version"] = scope_metrics.scope->version;
    }
    json list = json::array();
    for (const MetricData& metric : scope_metrics.metrics) list.push_back(Metric(metric));
    scopes.push_back({{"scope", scope}, {"metrics", list}});
  }
  json resource = {{"attributes", metrics.resource ? AttributesJson(metrics.resource->attributes)
                                                   : json::array()}};
  json request = {
      {"resourceMetrics", json::array({{{"resource", resource}, {"scopeMetrics", scopes}}})}};
  // Invalid UTF-8 in attribute values is replaced (U+FFFD), never a thrown exception.
  out->append(request.dump(-1, ' ', false, json::error_handler_t::replace));
}

}  // namespace lantern::telemetry
