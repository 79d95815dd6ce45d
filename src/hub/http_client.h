// A small HTTP GET client over libcurl for the Hub. Redirects are followed here, not by
// libcurl, so that the rule is ours and visible: the Authorization header goes only to the
// endpoint's own origin (scheme, host and port), never to a redirect target such as the
// LFS/CDN host whose signed URL needs no token. Nothing outside hub/ sees curl.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace lantern::hub {

using Headers = std::map<std::string, std::string>;  // names lower-case

struct HttpRequest {
  std::string url;
  std::string token;        // sent as "Authorization: Bearer" to `auth_origin` only
  std::string auth_origin;  // OriginOf(endpoint)
  int64_t range_start = 0;  // > 0: "Range: bytes=N-"
  double connect_timeout_s = 10;
  double stall_timeout_s = 10;  // no byte for this long: the transfer fails (kAborted)
  std::string user_agent = "lantern";
  const std::atomic<bool>* cancel = nullptr;  // set: the transfer stops (kAborted)
};

struct HttpResponse {
  long status = 0;         // of the last response, after redirects
  Headers headers;         // its headers, names lower-case
  Headers first;           // the first response's (the Hub's own)
  std::string error_body;  // a non-2xx body, at most 16 KiB
  int64_t body_bytes = 0;  // bytes given to the sink
};

// The body of a 2xx answer, piece by piece, with that answer's status and headers; an
// error stops the transfer and is returned.
using BodySink = std::function<Status(long status, const Headers& headers, std::string_view)>;

// "scheme://host:port" (default port filled in), lower-case; "" when `url` does not parse.
std::string OriginOf(const std::string& url);

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // GET `request.url`, following up to 10 redirects. Errors: kUnavailable when no answer
  // came (connect, DNS, TLS), kAborted when the body broke off, stalled or `cancel` was set
  // (resume with a Range), or the sink's own error. An HTTP error status is not an error
  // here: the caller reads `status`.
  Result<HttpResponse> Get(const HttpRequest& request, const BodySink& sink);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lantern::hub
