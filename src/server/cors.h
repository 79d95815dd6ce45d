// Cross-origin resource sharing as vLLM serves it (Starlette's CORSMiddleware with
// --allowed-origins, --allowed-methods, --allowed-headers, --allow-credentials; all origins
// by default), so that a chat front-end served from another origin can call the API from
// a browser: preflights (OPTIONS with Origin and Access-Control-Request-Method) are
// answered before routing and authentication, and every response carries
// Access-Control-Allow-Origin.
#pragma once

#include <string>
#include <vector>

#include "server/http_types.h"

namespace lantern::server {

struct CorsOptions {
  std::vector<std::string> allowed_origins = {"*"};  // "*": any origin
  std::vector<std::string> allowed_methods = {"*"};  // "*": any method
  std::vector<std::string> allowed_headers = {"*"};  // "*": whatever the browser asks for
  bool allow_credentials = false;
};

class CorsPolicy {
 public:
  explicit CorsPolicy(CorsOptions options);

  // An OPTIONS request carrying Origin and Access-Control-Request-Method.
  static bool IsPreflight(const HttpRequest& request);
  // 200 with the Access-Control-Allow-* headers, or 400 naming what is not allowed
  // (origin, method, headers), as Starlette answers.
  HttpResponse Preflight(const HttpRequest& request) const;
  // The headers of an actual (non-preflight) response to a request from `origin` ("" when
  // the request had no Origin header).
  void AddResponseHeaders(std::string_view origin, HeaderList& headers) const;

 private:
  bool OriginAllowed(std::string_view origin) const;
  // "Access-Control-Allow-Origin" and, when the origin is echoed, "Vary: Origin".
  void AddOrigin(std::string_view origin, HeaderList& headers) const;

  CorsOptions options_;
  bool any_origin_ = false, any_method_ = false, any_header_ = false;
};

// A flag value as vLLM takes it (a JSON list, '["http://a", "http://b"]') or as a shell
// user writes it ("http://a,http://b"). Empty items are dropped.
std::vector<std::string> ParseCorsList(const std::string& value);

}  // namespace lantern::server
