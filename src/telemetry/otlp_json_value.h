// Values in OTLP's JSON mapping shared by the metrics and logs encoders (the span encoder
// writes straight into a string for speed): ids as lowercase hex, doubles with NaN and the
// infinities as strings, 64-bit integers as decimal strings, AnyValue and KeyValue objects.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "telemetry/span_data.h"

namespace lantern::telemetry::otlp_json {

template <size_t N>
std::string Hex(const std::array<uint8_t, N>& id) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * N);
  for (uint8_t byte : id) {
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 15]);
  }
  return out;
}

nlohmann::json Double(double value);
nlohmann::json AnyValue(const AttributeValue& value);
nlohmann::json KeyValue(std::string_view key, nlohmann::json value);

}  // namespace lantern::telemetry::otlp_json
