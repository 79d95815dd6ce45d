#include "server/json_fields.h"

#include <cmath>

#include "server/api_error.h"

namespace lantern::server {

std::string DescribeJson(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case nlohmann::json::value_t::string: {
      std::string s = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      if (s.size() > 40) s = s.substr(0, 37) + "...\"";
      return "string " + s;
    }
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      return "number " + value.dump();
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::object:
      return "an object";
    default:
      return "a value of unexpected type";
  }
}

FieldReader::FieldReader(const nlohmann::json& object, std::string path)
    : object_(object), path_(std::move(path)) {}

std::string FieldReader::PathOf(const std::string& name) const {
  return path_.empty() ? name : path_ + "." + name;
}

const nlohmann::json* FieldReader::Get(const std::string& name) {
  known_.insert(name);
  auto it = object_.find(name);
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<std::string> FieldReader::String(const std::string& name) {
  const auto* value = Get(name);
  if (!value) return std::nullopt;
  if (!value->is_string()) {
    throw BadRequest("'" + PathOf(name) + "' must be a string, got " + DescribeJson(*value),
                     PathOf(name));
  }
  return value->get<std::string>();
}

std::optional<bool> FieldReader::Bool(const std::string& name) {
  const auto* value = Get(name);
  if (!value) return std::nullopt;
  if (!value->is_boolean()) {
    throw BadRequest("'" + PathOf(name) + "' must be a boolean, got " + DescribeJson(*value),
                     PathOf(name));
  }
  return value->get<bool>();
}

std::optional<double> FieldReader::Number(const std::string& name) {
  const auto* value = Get(name);
  if (!value) return std::nullopt;
  if (!value->is_number()) {
    throw BadRequest("'" + PathOf(name) + "' must be a number, got " + DescribeJson(*value),
                     PathOf(name));
  }
  double number = value->get<double>();
  if (!std::isfinite(number)) {
    throw BadRequest("'" + PathOf(name) + "' must be a finite number", PathOf(name));
  }
  return number;
}

int64_t JsonInteger(const nlohmann::json& value, const std::string& param, int64_t min,
                    int64_t max) {
  auto range = [&] {
    return "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  };
  int64_t result;
  if (value.is_number_integer()) {
    result = value.get<int64_t>();
  } else if (value.is_number_unsigned()) {
    uint64_t u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(max)) {
      throw BadRequest("'" + param + "' must be " + range() + ", got " + value.dump(), param);
    }
    result = static_cast<int64_t>(u);
  } else if (value.is_number_float()) {
    double d = value.get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || d < -9.2e18 || d > 9.2e18) {
      throw BadRequest("'" + param + "' must be " + range() + ", got " + DescribeJson(value),
                       param);
    }
    result = static_cast<int64_t>(d);
  } else {
    throw BadRequest("'" + param + "' must be " + range() + ", got " + DescribeJson(value), param);
  }
  if (result < min || result > max) {
    throw BadRequest("'" + param + "' must be " + range() + ", got " + std::to_string(result),
                     param);
  }
  return result;
}

std::optional<int64_t> FieldReader::Integer(const std::string& name, int64_t min, int64_t max) {
  const auto* value = Get(name);
  if (!value) return std::nullopt;
  return JsonInteger(*value, PathOf(name), min, max);
}

void FieldReader::RejectUnknown() const {
  for (const auto& [name, value] : object_.items()) {
    // null is how clients spell "not given" (the Python client's None): never an error.
    if (!known_.count(name) && !value.is_null()) {
      throw BadRequest("Unrecognized request argument supplied: " + PathOf(name), PathOf(name));
    }
  }
}

}  // namespace lantern::server
