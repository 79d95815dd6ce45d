#include "server/cors.h"

#include <algorithm>
#include <cctype>
#include <set>

#include <nlohmann/json.hpp>

namespace lantern::server {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string Trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t");
  if (begin == text.npos) return {};
  size_t end = text.find_last_not_of(" \t");
  return std::string(text.substr(begin, end - begin + 1));
}

std::vector<std::string> SplitComma(std::string_view text) {
  std::vector<std::string> items;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string item = Trim(text.substr(0, comma));
    if (!item.empty()) items.push_back(std::move(item));
    text = comma == text.npos ? std::string_view{} : text.substr(comma + 1);
  }
  return items;
}

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// Starlette's answer for "*": every method a browser may ask to use.
constexpr const char* kAllMethods = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT";
// Headers a browser sends without asking; allowed whatever the list says (the Fetch
// standard's CORS-safelisted request headers).
const std::set<std::string> kSafelistedHeaders = {"accept", "accept-language", "content-language",
                                                  "content-type"};

}  // namespace

std::vector<std::string> ParseCorsList(const std::string& value) {
  std::string trimmed = Trim(value);
  if (!trimmed.empty() && trimmed.front() == '[') {
    auto parsed = nlohmann::json::parse(trimmed, nullptr, false);
    if (parsed.is_array()) {
      std::vector<std::string> items;
      for (const auto& item : parsed) {
        if (item.is_string() && !item.get<std::string>().empty()) {
          items.push_back(item.get<std::string>());
        }
      }
      return items;
    }
  }
  return SplitComma(trimmed);
}

CorsPolicy::CorsPolicy(CorsOptions options) : options_(std::move(options)) {
  any_origin_ = Contains(options_.allowed_origins, "*");
  any_method_ = Contains(options_.allowed_methods, "*");
  any_header_ = Contains(options_.allowed_headers, "*");
  for (auto& method : options_.allowed_methods) {
    std::transform(method.begin(), method.end(), method.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  }
  for (auto& header : options_.allowed_headers) header = Lower(header);
}

bool CorsPolicy::IsPreflight(const HttpRequest& request) {
  return request.method == "OPTIONS" && !request.Header("origin").empty() &&
         !request.Header("access-control-request-method").empty();
}

bool CorsPolicy::OriginAllowed(std::string_view origin) const {
  return any_origin_ || Contains(options_.allowed_origins, origin);
}

void CorsPolicy::AddOrigin(std::string_view origin, HeaderList& headers) const {
  // "*" cannot carry credentials (browsers refuse it): then the origin is echoed, and
  // caches must keep answers per origin.
  if (any_origin_ && !options_.allow_credentials) {
    headers.emplace_back("Access-Control-Allow-Origin", "*");
    return;
  }
  headers.emplace_back("Access-Control-Allow-Origin", std::string(origin));
  headers.emplace_back("Vary", "Origin");
}

void CorsPolicy::AddResponseHeaders(std::string_view origin, HeaderList& headers) const {
  if (origin.empty()) {
    // No Origin: not a browser's cross-origin request. "*" still tells any reader that the
    // resource is shareable; an echo has nothing to echo.
    if (any_origin_ && !options_.allow_credentials) {
      headers.emplace_back("Access-Control-Allow-Origin", "*");
    }
    return;
  }
  if (!OriginAllowed(origin)) return;
  AddOrigin(origin, headers);
  if (options_.allow_credentials) headers.emplace_back("Access-Control-Allow-Credentials", "true");
}

HttpResponse CorsPolicy::Preflight(const HttpRequest& request) const {
  std::string_view origin = request.Header("origin");
  std::string method = std::string(Trim(request.Header("access-control-request-method")));
  std::vector<std::string> requested_headers =
      SplitComma(Lower(request.Header("access-control-request-headers")));
  std::vector<std::string> failures;
  if (!OriginAllowed(origin)) failures.push_back("origin");
  if (!any_method_ && !Contains(options_.allowed_methods, method)) failures.push_back("method");
  if (!any_header_) {
    for (const auto& header : requested_headers) {
      if (!kSafelistedHeaders.count(header) && !Contains(options_.allowed_headers, header)) {
        failures.push_back("headers");
        break;
      }
    }
  }
  HttpResponse response{200, "text/plain; charset=utf-8", {}, "OK"};
  if (OriginAllowed(origin)) AddOrigin(origin, response.headers);
  if (any_method_) {
    response.headers.emplace_back("Access-Control-Allow-Methods", kAllMethods);
  } else {
    std::string methods;
    for (const auto& m : options_.allowed_methods) methods += (methods.empty() ? "" : ", ") + m;
    response.headers.emplace_back("Access-Control-Allow-Methods", methods);
  }
  if (any_header_) {
    std::string echoed;
    for (const auto& h : requested_headers) echoed += (echoed.empty() ? "" : ", ") + h;
    if (!echoed.empty()) response.headers.emplace_back("Access-Control-Allow-Headers", echoed);
  } else {
    std::set<std::string> allowed(options_.allowed_headers.begin(), options_.allowed_headers.end());
    allowed.insert(kSafelistedHeaders.begin(), kSafelistedHeaders.end());
    std::string list;
    for (const auto& h : allowed) list += (list.empty() ? "" : ", ") + h;
    response.headers.emplace_back("Access-Control-Allow-Headers", list);
  }
  response.headers.emplace_back("Access-Control-Max-Age", "600");
  if (options_.allow_credentials) {
    response.headers.emplace_back("Access-Control-Allow-Credentials", "true");
  }
  if (!failures.empty()) {
    std::string what;
    for (const auto& f : failures) what += (what.empty() ? "" : ", ") + f;
    response.status = 400;
    response.body = "Disallowed CORS " + what;
  }
  return response;
}

}  // namespace lantern::server
