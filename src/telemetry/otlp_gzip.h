// gzip (RFC 1952) compression of OTLP/HTTP request bodies ("Content-Encoding: gzip").
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace lantern::telemetry {

Result<std::string> GzipCompress(std::string_view data);

}  // namespace lantern::telemetry
