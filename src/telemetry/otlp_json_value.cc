#include "telemetry/otlp_json_value.h"

#include <cmath>

namespace lantern::telemetry::otlp_json {

using nlohmann::json;

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

json KeyValue(std::string_view key, json value) {
  return {{"key", std::string(key)}, {"value", std::move(value)}};
}

}  // namespace lantern::telemetry::otlp_json
