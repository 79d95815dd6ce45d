#include "telemetry/otlp_http_transport.h"

#include <curl/curl.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "google/rpc/status.pb.h"
#include "telemetry/env.h"
#include "telemetry/otlp_buffer_pool.h"
#include "telemetry/otlp_endpoint.h"
#include "telemetry/otlp_grpc_transport.h"
#include "telemetry/otlp_gzip.h"
#include "telemetry/otlp_json.h"
#include "telemetry/otlp_proto.h"
#include "telemetry/otlp_retry.h"
#include "telemetry/otlp_wire.h"

namespace lantern::telemetry {
namespace {

constexpr size_t kMaxResponseBytes = 4u << 20;  // larger responses are refused

class HttpRequest final : public OtlpRequest {
 public:
  size_t ByteSize() const override { return uncompressed_size; }
  std::shared_ptr<std::string> body;  // what goes on the wire (compressed when gzip is on)
  size_t uncompressed_size = 0;
};

// What a response delivered: its body (bounded) and the headers we care about.
struct Response {
  std::string body;
  bool too_large = false;
  std::string retry_after;
};

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<Response*>(user);
  size_t bytes = size * count;
  if (response->body.size() + bytes > kMaxResponseBytes) {
    response->too_large = true;
    return 0;  // makes curl fail with CURLE_WRITE_ERROR
  }
  response->body.append(data, bytes);
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<Response*>(user);
  std::string_view line(data, size * count);
  constexpr std::string_view kRetryAfter = "retry-after:";
  if (line.size() > kRetryAfter.size() &&
      AsciiLower(line.substr(0, kRetryAfter.size())) == kRetryAfter) {
    response->retry_after = std::string(TrimWhitespace(line.substr(kRetryAfter.size())));
    while (!response->retry_after.empty() &&
           (response->retry_after.back() == '\r' || response->retry_after.back() == '\n')) {
      response->retry_after.pop_back();
    }
  }
  return size * count;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<std::atomic<bool>*>(user)->load() ? 1 : 0;  // non-zero aborts
}

// Retry-After as delta-seconds or an HTTP-date.
std::optional<std::chrono::milliseconds> RetryAfter(const std::string& value) {
  if (value.empty()) return std::nullopt;
  if (auto seconds = ParseRetryAfterSeconds(value)) return seconds;
  time_t when = curl_getdate(value.c_str(), nullptr);
  if (when < 0) return std::nullopt;
  int64_t ms = (static_cast<int64_t>(when) - static_cast<int64_t>(time(nullptr))) * 1000;
  return std::chrono::milliseconds(std::max<int64_t>(ms, 0));
}

// A short, printable excerpt of an error response for the log.
std::string ErrorBodySummary(const std::string& body, bool json) {
  if (!json) {
    google::rpc::Status status;
    if (status.ParseFromString(body) && !status.message().empty()) return status.message();
  }
  std::string text = body.substr(0, 200);
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  }
  return text;
}

class HttpTransport final : public OtlpTransport {
 public:
  HttpTransport(CURL* curl, const OtlpExporterOptions& options)
      : curl_(curl),
        url_(options.endpoint),
        json_(options.protocol == OtlpProtocol::kHttpJson),
        gzip_(options.compression == OtlpCompression::kGzip) {
    headers_ = curl_slist_append(headers_, json_ ? "Content-Type: application/json"
                                                 : "Content-Type: application/x-protobuf");
    if (gzip_) headers_ = curl_slist_append(headers_, "Content-Encoding: gzip");
    headers_ = curl_slist_append(headers_, "Expect:");  // no 100-continue round trip
    for (const auto& [key, value] : options.headers) {
      headers_ = curl_slist_append(headers_, (key + ": " + value).c_str());
    }
    curl_easy_setopt(curl_, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(curl_, CURLOPT_POST, 1L);
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_USERAGENT, "lantern-otlp-exporter");
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(curl_, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl_, CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(curl_, CURLOPT_XFERINFODATA, &cancelled_);
    curl_easy_setopt(curl_, CURLOPT_FOLLOWLOCATION, 0L);
  }
  ~HttpTransport() override {
    curl_easy_cleanup(curl_);
    curl_slist_free_all(headers_);
  }

  std::unique_ptr<OtlpRequest> Encode(std::span<const SpanData* const> spans) override {
    return EncodeBody([spans](bool json, std::string* out) {
      if (json) {
        AppendOtlpJson(spans, out);
      } else {
        AppendOtlpProtobuf(spans, out);
      }
    });
  }

  std::unique_ptr<OtlpRequest> EncodeBody(const BodyWriter& write) override {
    auto request = std::make_unique<HttpRequest>();
    request->body = pool_->Take();
    write(json_, request->body.get());
    request->uncompressed_size = request->body->size();
    if (gzip_) {
      Result<std::string> compressed = GzipCompress(*request->body);
      if (compressed.ok()) {
        *request->body = std::move(compressed).value();
      } else {
        LANTERN_LOG(kError, "otlp") << compressed.status().ToString();
      }
    }
    return request;
  }

  SendOutcome Send(const OtlpRequest& request, SteadyTime deadline) override {
    if (cancelled_.load()) return {SendOutcome::Kind::kCancelled, {}, 0, "exporter shut down"};
    const std::string& body = *static_cast<const HttpRequest&>(request).body;
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Now());
    Response response;
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(std::max<int64_t>(remaining.count(), 1)));
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &response);
    CURLcode code = curl_easy_perform(curl_);
    SendOutcome outcome;
    if (code != CURLE_OK) {
      outcome.message =
          std::string("HTTP request to ") + url_ + " failed: " + curl_easy_strerror(code);
      if (response.too_large) {
        outcome.kind = SendOutcome::Kind::kFailed;
        outcome.message = "the response of " + url_ + " exceeds 4 MiB; refused";
      } else if (code == CURLE_ABORTED_BY_CALLBACK || cancelled_.load()) {
        outcome.kind = SendOutcome::Kind::kCancelled;
      } else if (IsTransient(code)) {
        outcome.kind = SendOutcome::Kind::kRetryable;
      } else {
        outcome.kind = SendOutcome::Kind::kFailed;
      }
      return outcome;
    }
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) {
      ParsePartialSuccess(response.body, &outcome);
      return outcome;
    }
    outcome.message = "HTTP " + std::to_string(status) + " from " + url_ + ": " +
                      ErrorBodySummary(response.body, json_);
    if (IsRetryableHttpStatus(status)) {
      outcome.kind = SendOutcome::Kind::kRetryable;
      outcome.retry_after = RetryAfter(response.retry_after);
    } else {
      outcome.kind = SendOutcome::Kind::kFailed;
    }
    return outcome;
  }

  void Cancel() override { cancelled_.store(true); }

  std::string Describe() const override {
    return std::string(json_ ? "OTLP/HTTP JSON to " : "OTLP/HTTP protobuf to ") + url_;
  }

 private:
  static bool IsTransient(CURLcode code) {
    switch (code) {
      case CURLE_COULDNT_CONNECT:
      case CURLE_COULDNT_RESOLVE_HOST:
      case CURLE_COULDNT_RESOLVE_PROXY:
      case CURLE_SEND_ERROR:
      case CURLE_RECV_ERROR:
      case CURLE_GOT_NOTHING:
      case CURLE_PARTIAL_FILE:
      case CURLE_OPERATION_TIMEDOUT:
        return true;
      default:
        return false;
    }
  }

  void ParsePartialSuccess(const std::string& body, SendOutcome* outcome) const {
    if (body.empty()) return;
    if (!json_) {
      ExportTraceServiceResponse parsed;
      if (parsed.ParseFromString(body)) {
        outcome->rejected_spans = parsed.partial_success().rejected_spans();
        outcome->message = parsed.partial_success().error_message();
      }
      return;
    }
    nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_object() || !parsed.contains("partialSuccess")) return;
    const nlohmann::json& partial = parsed["partialSuccess"];
    if (!partial.is_object()) return;
    if (auto it = partial.find("rejectedSpans"); it != partial.end()) {
      if (it->is_number_integer()) {
        outcome->rejected_spans = it->get<int64_t>();
      } else if (it->is_string()) {
        outcome->rejected_spans = std::strtoll(it->get<std::string>().c_str(), nullptr, 10);
      }
    }
    if (auto it = partial.find("errorMessage"); it != partial.end() && it->is_string()) {
      outcome->message = it->get<std::string>();
    }
  }

  CURL* curl_;
  curl_slist* headers_ = nullptr;
  const std::string url_;
  const bool json_;
  const bool gzip_;
  std::atomic<bool> cancelled_{false};
  std::shared_ptr<OtlpBufferPool> pool_ = OtlpBufferPool::Create();
};

}  // namespace

Result<std::unique_ptr<OtlpTransport>> CreateOtlpHttpTransport(const OtlpExporterOptions& options) {
  LANTERN_ASSIGN_OR_RETURN(OtlpEndpoint endpoint, ParseOtlpEndpoint(options.endpoint));
  if (endpoint.scheme != "http" && endpoint.scheme != "https") {
    return InvalidArgument("OTLP/HTTP endpoint \"" + options.endpoint +
                           "\" must be an http:// or https:// URL");
  }
  for (const auto& [file, what] :
       {std::pair{options.certificate_file, "certificate"},
        std::pair{options.client_key_file, "client key"},
        std::pair{options.client_certificate_file, "client certificate"}}) {
    if (!file.empty()) LANTERN_RETURN_IF_ERROR(ReadPemFile(file, what).status());
  }
  static std::once_flag curl_initialized;
  std::call_once(curl_initialized, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Internal("curl_easy_init failed");
  if (!options.certificate_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, options.certificate_file.c_str());
  }
  if (!options.client_certificate_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, options.client_certificate_file.c_str());
  }
  if (!options.client_key_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLKEY, options.client_key_file.c_str());
  }
  return std::unique_ptr<OtlpTransport>(std::make_unique<HttpTransport>(curl, options));
}

}  // namespace lantern::telemetry
