// API errors as OpenAI and vLLM shape them:
//   {"error": {"message": ..., "type": "BadRequestError", "param": "temperature", "code": 400}}
// Validation code throws ApiError (inside this module only); the router catches it at one
// boundary and turns it, and anything unexpected, into such a response.
#pragma once

#include <stdexcept>
#include <string>

#include "base/status.h"
#include "server/http_types.h"

namespace lantern::server {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string param = {})
      : std::runtime_error(message), status_(status), param_(std::move(param)) {}

  int status() const { return status_; }
  // The request field at fault ("messages[2].content"), or "" when none.
  const std::string& param() const { return param_; }

 private:
  int status_;
  std::string param_;
};

// 400 naming the field.
inline ApiError BadRequest(std::string message, std::string param = {}) {
  return ApiError(400, std::move(message), std::move(param));
}

// vLLM's error type names: "BadRequestError", "NotFoundError", ...
const char* ErrorTypeForStatus(int status);

// The JSON body of an error response.
std::string ErrorBody(int status, const std::string& message, const std::string& param = {});
HttpResponse ErrorResponse(int status, const std::string& message, const std::string& param = {});

// The 400 (with the field named, when the message starts with one) or 503 an engine error
// becomes.
int StatusForEngineError(const Status& status);
std::string ParamOfEngineError(const Status& status);

}  // namespace lantern::server
