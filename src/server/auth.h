// API key checks. The key is compared in constant time and never logged.
#pragma once

#include <string_view>

namespace lantern::server {

// True when a and b are equal; the time taken depends only on their lengths.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// True when `authorization` is "Bearer <api_key>" (scheme case-insensitive).
bool BearerTokenMatches(std::string_view authorization, std::string_view api_key);

}  // namespace lantern::server
