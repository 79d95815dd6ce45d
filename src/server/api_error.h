// API errors as OpenAI and vLLM shape them:
//   {"error": {"message": ..., "type": "BadRequestError", "param": "temperature", "code": 400}}
// Validation code throws ApiError (inside this module only); the router catches it at one
// boundary and turns it, and anything unexpected, into such a response. Messages often quote
// client input: control characters in them are escaped and invalid UTF-8 replaced, so a NUL
// in a model name cannot cut the message short and serializing it cannot throw.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "base/status.h"
#include "server/http_types.h"

namespace lantern::server {

// `text` made safe to show: control characters (C0, DEL, C1) written as escapes ("\n",
// "\u0000"), each byte that does not start a valid UTF-8 sequence replaced by U+FFFD.
// Idempotent: escaping an escaped text changes nothing.
std::string EscapeControlCharacters(std::string_view text);

class ApiError : public std::runtime_error {
 public:
  // The message and param are escaped (EscapeControlCharacters): what() is the whole message.
  ApiError(int status, const std::string& message, const std::string& param = {});

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
