#include "server/api_error.h"

#include <cctype>

#include <nlohmann/json.hpp>

namespace lantern::server {

const char* ErrorTypeForStatus(int status) {
  switch (status) {
    case 400:
      return "BadRequestError";
    case 401:
      return "AuthenticationError";
    case 403:
      return "PermissionDeniedError";
    case 404:
      return "NotFoundError";
    case 405:
      return "MethodNotAllowedError";
    case 408:
      return "RequestTimeoutError";
    case 413:
      return "RequestTooLargeError";
    case 415:
      return "UnsupportedMediaTypeError";
    case 422:
      return "UnprocessableEntityError";
    case 429:
      return "RateLimitError";
    case 431:
      return "RequestHeaderFieldsTooLargeError";
    case 503:
      return "ServiceUnavailableError";
    default:
      return status >= 500 ? "InternalServerError" : "BadRequestError";
  }
}

std::string ErrorBody(int status, const std::string& message, const std::string& param) {
  nlohmann::json error = {
      {"message", message},
      {"type", ErrorTypeForStatus(status)},
      {"param", param.empty() ? nlohmann::json(nullptr) : nlohmann::json(param)},
      {"code", status}};
  // Messages may quote client bytes that are not valid UTF-8: replace, never throw.
  return nlohmann::json{{"error", std::move(error)}}.dump(-1, ' ', false,
                                                          nlohmann::json::error_handler_t::replace);
}

HttpResponse ErrorResponse(int status, const std::string& message, const std::string& param) {
  return HttpResponse{status, "application/json", {}, ErrorBody(status, message, param)};
}

int StatusForEngineError(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kResourceExhausted:
    case StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

std::string ParamOfEngineError(const Status& status) {
  if (status.code() != StatusCode::kInvalidArgument) return {};
  // The engine's messages start with the field: "top_p must be in (0, 1], got 2".
  const std::string& m = status.message();
  size_t end = m.find_first_of(" [");
  std::string field = m.substr(0, end);
  for (char c : field) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return {};
  }
  return field;
}

}  // namespace lantern::server
