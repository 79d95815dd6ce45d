// The process's resource: service.name and the attributes every span of this process
// shares (telemetry.sdk.*, host.*, process.*, os.*), from the environment and the system.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "telemetry/env.h"
#include "telemetry/span_data.h"

namespace lantern::telemetry {

// Parses OTEL_RESOURCE_ATTRIBUTES ("k1=v1,k2=v2", values and keys percent-decoded,
// spaces around items trimmed). Any malformed item (no '=', empty key, bad %-escape)
// fails the whole value, naming the item.
Result<Attributes> ParseResourceAttributes(std::string_view text);

// Detected attributes, then OTEL_RESOURCE_ATTRIBUTES over them (discarded whole with a
// warning when malformed), then service.name from OTEL_SERVICE_NAME, else from
// OTEL_RESOURCE_ATTRIBUTES, else `service_name_override` when given, else
// "unknown_service:<executable name>".
Resource BuildResource(const EnvLookup& env,
                       std::optional<std::string_view> default_service_name = std::nullopt);

// Sets key=value in `resource`, replacing an existing key.
void SetResourceAttribute(Resource& resource, std::string_view key, AttributeValue value);
// The string value of `key`, or nullopt.
std::optional<std::string> ResourceString(const Resource& resource, std::string_view key);

}  // namespace lantern::telemetry
