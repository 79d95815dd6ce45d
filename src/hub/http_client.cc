#include "hub/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <mutex>

namespace lantern::hub {

namespace {

constexpr int kMaxRedirects = 10;
constexpr size_t kMaxErrorBody = 16 * 1024;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string UrlPart(CURLU* url, CURLUPart part, unsigned flags = 0) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, flags) != CURLUE_OK || !value) return "";
  std::string out = value;
  curl_free(value);
  return out;
}

// `location` (absolute or relative) against `base`; "" when it does not parse.
std::string ResolveLocation(const std::string& base, const std::string& location) {
  CURLU* url = curl_url();
  std::string out;
  if (curl_url_set(url, CURLUPART_URL, base.c_str(), 0) == CURLUE_OK &&
      curl_url_set(url, CURLUPART_URL, location.c_str(), 0) == CURLUE_OK) {
    out = UrlPart(url, CURLUPART_URL);
  }
  curl_url_cleanup(url);
  return out;
}

// What one hop of a request collects from libcurl's callbacks.
struct Hop {
  const HttpRequest* request = nullptr;
  const BodySink* sink = nullptr;
  HttpResponse* response = nullptr;
  long status = 0;
  std::map<std::string, std::string> headers;
  Status sink_status;
  // Stall detection: libcurl's low-speed check averages over a 5-second window, which would
  // stretch a 1-second HF_HUB_DOWNLOAD_TIMEOUT to six; we time the last byte ourselves.
  curl_off_t last_bytes = -1;
  std::chrono::steady_clock::time_point last_change = std::chrono::steady_clock::now();
  bool stalled = false;
};

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* hop = static_cast<Hop*>(user);
  std::string line(data, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.rfind("HTTP/", 0) == 0) {  // a new response (e.g. after "100 Continue")
    hop->headers.clear();
    size_t space = line.find(' ');
    hop->status =
        space == std::string::npos ? 0 : std::strtol(line.c_str() + space + 1, nullptr, 10);
    return size * count;
  }
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    size_t start = line.find_first_not_of(" \t", colon + 1);
    hop->headers[Lower(line.substr(0, colon))] =
        start == std::string::npos ? "" : line.substr(start);
  }
  return size * count;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* hop = static_cast<Hop*>(user);
  const size_t n = size * count;
  if (hop->status >= 300 && hop->status < 400) return n;  // a redirect's body is ignored
  if (hop->status < 200 || hop->status >= 300) {
    auto& body = hop->response->error_body;
    body.append(data, std::min(n, kMaxErrorBody - std::min(kMaxErrorBody, body.size())));
    return n;
  }
  hop->sink_status = (*hop->sink)(hop->status, hop->headers, std::string_view(data, n));
  if (!hop->sink_status.ok()) return 0;  // libcurl stops with CURLE_WRITE_ERROR
  hop->response->body_bytes += static_cast<int64_t>(n);
  return n;
}

int OnProgress(void* user, curl_off_t, curl_off_t downloaded, curl_off_t, curl_off_t) {
  auto* hop = static_cast<Hop*>(user);
  if (hop->request->cancel && hop->request->cancel->load()) return 1;
  auto now = std::chrono::steady_clock::now();
  if (downloaded != hop->last_bytes) {
    hop->last_bytes = downloaded;
    hop->last_change = now;
  } else if (std::chrono::duration<double>(now - hop->last_change).count() >
             hop->request->stall_timeout_s) {
    hop->stalled = true;
    return 1;
  }
  return 0;
}

}  // namespace

std::string OriginOf(const std::string& url) {
  CURLU* parsed = curl_url();
  std::string origin;
  if (curl_url_set(parsed, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    std::string scheme = Lower(UrlPart(parsed, CURLUPART_SCHEME));
    std::string host = Lower(UrlPart(parsed, CURLUPART_HOST));
    std::string port = UrlPart(parsed, CURLUPART_PORT, CURLU_DEFAULT_PORT);
    if (!scheme.empty() && !host.empty()) origin = scheme + "://" + host + ":" + port;
  }
  curl_url_cleanup(parsed);
  return origin;
}

struct HttpClient::Impl {
  CURL* curl = nullptr;
};

HttpClient::HttpClient() : impl_(std::make_unique<Impl>()) {
  static std::once_flag initialized;
  std::call_once(initialized, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  impl_->curl = curl_easy_init();
}

HttpClient::~HttpClient() {
  if (impl_->curl) curl_easy_cleanup(impl_->curl);
}

Result<HttpResponse> HttpClient::Get(const HttpRequest& request, const BodySink& sink) {
  CURL* curl = impl_->curl;
  if (!curl) return Internal("libcurl could not be initialised");
  HttpResponse response;
  std::string url = request.url;
  for (int hops = 0; hops <= kMaxRedirects; ++hops) {
    Hop hop;
    hop.request = &request;
    hop.sink = &sink;
    hop.response = &response;
    curl_slist* headers = nullptr;
    // The token travels only to the Hub itself, never to where it redirects.
    if (!request.token.empty() && OriginOf(url) == request.auth_origin) {
      headers = curl_slist_append(headers, ("Authorization: Bearer " + request.token).c_str());
    }
    if (request.range_start > 0) {
      headers = curl_slist_append(
          headers, ("Range: bytes=" + std::to_string(request.range_start) + "-").c_str());
    }
    headers = curl_slist_append(headers, "Accept-Encoding: identity");  // real sizes
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, request.user_agent.c_str());
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(request.connect_timeout_s * 1000));
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &hop);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &hop);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &hop);
    CURLcode code = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    if (!hop.sink_status.ok()) return hop.sink_status;
    if (code == CURLE_ABORTED_BY_CALLBACK && hop.stalled) {
      std::string what =
          "no data for " + std::to_string(request.stall_timeout_s).substr(0, 4) + " s";
      if (hop.status == 0) return Unavailable(what);
      return Status(StatusCode::kAborted, what);
    }
    if (code == CURLE_ABORTED_BY_CALLBACK) return Status(StatusCode::kAborted, "cancelled");
    if (code != CURLE_OK) {
      // No status line: nothing answered. A status line then an error: the body broke off.
      std::string what = curl_easy_strerror(code);
      if (hop.status == 0) return Unavailable(what);
      return Status(StatusCode::kAborted, what);
    }
    if (hops == 0) response.first = hop.headers;
    response.status = hop.status;
    response.headers = hop.headers;
    bool redirect = hop.status == 301 || hop.status == 302 || hop.status == 303 ||
                    hop.status == 307 || hop.status == 308;
    auto location = hop.headers.find("location");
    if (!redirect || location == hop.headers.end()) return response;
    std::string next = ResolveLocation(url, location->second);
    if (next.empty()) return Unavailable("a redirect to an invalid URL");
    url = next;
  }
  return Unavailable("more than " + std::to_string(kMaxRedirects) + " redirects");
}

}  // namespace lantern::hub
