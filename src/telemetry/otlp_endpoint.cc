#include "telemetry/otlp_endpoint.h"

#include <charconv>

#include "telemetry/env.h"

namespace lantern::telemetry {
namespace {

bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

// RFC 7230 token characters: what an HTTP header name may contain.
bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Status BadEndpoint(std::string_view text, std::string_view why) {
  return InvalidArgument("OTLP endpoint \"" + std::string(text) + "\": " + std::string(why));
}

}  // namespace

Result<OtlpEndpoint> ParseOtlpEndpoint(std::string_view text) {
  std::string_view rest = TrimWhitespace(text);
  if (rest.empty()) return BadEndpoint(text, "empty");
  OtlpEndpoint endpoint;
  if (size_t sep = rest.find("://"); sep != std::string_view::npos) {
    endpoint.scheme = AsciiLower(rest.substr(0, sep));
    if (endpoint.scheme != "http" && endpoint.scheme != "https" && endpoint.scheme != "grpc") {
      return BadEndpoint(
          text, "unsupported scheme \"" + endpoint.scheme + "\" (expected http, https or grpc)");
    }
    rest.remove_prefix(sep + 3);
  }
  size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  if (authority_end != std::string_view::npos) {
    std::string_view path = rest.substr(authority_end);
    if (path.front() != '/') return BadEndpoint(text, "a query or fragment needs a path");
    if (path.find_first_of(" \t\r\n") != std::string_view::npos) {
      return BadEndpoint(text, "whitespace in the path");
    }
    endpoint.path = std::string(path);
  }
  if (authority.find('@') != std::string_view::npos) {
    return BadEndpoint(text, "user information is not supported");
  }
  std::string_view host = authority;
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return BadEndpoint(text, "unterminated IPv6 address");
    host = authority.substr(0, close + 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return BadEndpoint(text, "junk after the IPv6 address");
      port = after.substr(1);
      if (port.empty()) return BadEndpoint(text, "empty port");
    }
    for (char c : host.substr(1, host.size() - 2)) {
      if (HexValue(c) < 0 && c != ':' && c != '.') {
        return BadEndpoint(text, "invalid IPv6 address");
      }
    }
  } else if (size_t colon = authority.find(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) return BadEndpoint(text, "empty port");
  }
  if (host.empty() || host == "[]") return BadEndpoint(text, "no host");
  if (host.front() != '[') {
    for (char c : host) {
      if (!IsHostChar(c)) return BadEndpoint(text, "invalid character in the host");
    }
  }
  endpoint.host = std::string(host);
  if (!port.empty()) {
    int value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535) {
      return BadEndpoint(text, "port must be a number from 1 to 65535");
    }
    endpoint.port = value;
  }
  return endpoint;
}

std::string GrpcTarget(const OtlpEndpoint& endpoint) {
  int port = endpoint.port;
  if (port == 0) port = endpoint.scheme == "https" ? 443 : endpoint.scheme == "http" ? 80 : 4317;
  return endpoint.host + ":" + std::to_string(port);
}

bool GrpcUsesTls(const OtlpEndpoint& endpoint, bool insecure) {
  if (endpoint.scheme == "https") return true;
  if (endpoint.scheme == "http") return false;
  return !insecure;
}

std::string HttpTracesUrl(const OtlpEndpoint& endpoint, bool append_signal_path) {
  return HttpSignalUrl(endpoint, append_signal_path, "v1/traces");
}

std::string HttpSignalUrl(const OtlpEndpoint& endpoint, bool append_signal_path,
                          std::string_view signal_path) {
  std::string url = endpoint.scheme == "https" ? "https://" : "http://";
  url.append(endpoint.host);
  if (endpoint.port != 0) url.append(":").append(std::to_string(endpoint.port));
  if (!append_signal_path) {
    url.append(endpoint.path.empty() ? std::string_view("/") : std::string_view(endpoint.path));
    return url;
  }
  // The generic endpoint is a base URL: "http://c:4318" and "http://c:4318/" both give
  // "http://c:4318/v1/traces", "http://c:4318/otlp" gives "http://c:4318/otlp/v1/traces".
  url.append(endpoint.path);
  if (url.back() != '/') url.push_back('/');
  url.append(signal_path);
  return url;
}

bool PercentDecode(std::string_view text, std::string* out) {
  out->clear();
  out->reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out->push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return false;
    int hi = HexValue(text[i + 1]);
    int lo = HexValue(text[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

std::vector<std::pair<std::string, std::string>> ParseOtlpHeaders(
    std::string_view text, std::vector<std::string>* warnings) {
  std::vector<std::pair<std::string, std::string>> headers;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view entry = TrimWhitespace(text.substr(start, comma - start));
    start = comma + 1;
    if (entry.empty()) continue;
    auto skip = [&](std::string_view why) {
      warnings->push_back("OTLP header \"" + std::string(entry) +
                          "\" skipped: " + std::string(why));
    };
    size_t equals = entry.find('=');
    if (equals == std::string_view::npos) {
      skip("expected key=value");
      continue;
    }
    std::string key;
    std::string value;
    if (!PercentDecode(TrimWhitespace(entry.substr(0, equals)), &key) ||
        !PercentDecode(TrimWhitespace(entry.substr(equals + 1)), &value)) {
      skip("malformed percent-encoding");
      continue;
    }
    bool key_ok = !key.empty();
    for (char c : key) key_ok = key_ok && IsTokenChar(c);
    if (!key_ok) {
      skip("the key is not a valid header name");
      continue;
    }
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      skip("the value contains a line break or NUL");
      continue;
    }
    headers.emplace_back(std::move(key), std::move(value));
  }
  return headers;
}

}  // namespace lantern::telemetry
