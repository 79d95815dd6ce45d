// AppendOtlpMetricsJson (otlp_metrics.h): the protobuf JSON mapping with OTLP's rules —
// lowerCamelCase keys, trace/span ids as hex, 64-bit integers (fixed64, sfixed64) as
// decimal strings, enums as integers.
#include <cmath>
#include <nlohmann/json.hpp>

#include "telemetry/ids.h"
#include "telemetry/otlp_metrics.h"

namespace lantern::telemetry {
namespace {

using nlohmann::json;

template <size_t N>
std::string Hex(const std::array<uint8_t, N>& id) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t byte : id) {
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 15]);
  }
  return out;
}

json Double(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  return value;
}

json AnyValue(const AttributeValue& value) {
  return std::visit(
      [](const auto& v) -> json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          return {{"boolValue", v}};
        } else if constexpr (std::is_same_v<T, int64_t>) {
          return {{"intValue", std::to_string(v)}};
        } else if constexpr (std::is_same_v<T, double>) {
          return {{"doubleValue", Double(v)}};
        } else if constexpr (std::is_same_v<T, std::string>) {
          return {{"stringValue", v}};
        } else {
          json values = json::array();
          for (const auto& element : v) {
            values.push_back(AnyValue(AttributeValue(typename T::value_type(element))));
          }
          return {{"arrayValue", {{"values", values}}}};
        }
      },
      value);
}

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
