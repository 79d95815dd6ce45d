#include "server/api_error.h"

#include <cctype>

#include <nlohmann/json.hpp>

namespace lantern::server {
namespace {

// The length of the valid UTF-8 sequence at the start of `s` (not empty), or 0 when it is not
// one (a stray continuation byte, an overlong form, a surrogate, beyond U+10FFFF, cut short).
size_t Utf8SequenceLength(std::string_view s) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  size_t length;
  unsigned char low = 0x80, high = 0xBF;  // the range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // overlong
    if (lead == 0xED) high = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;   // overlong
    if (lead == 0xF4) high = 0x8F;  // beyond U+10FFFF
  } else {
    return 0;
  }
  if (s.size() < length || byte(1) < low || byte(1) > high) return 0;
  for (size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
  }
  return length;
}

void AppendEscape(std::string& out, unsigned code) {
  switch (code) {
    case '\n':
      out += "\\n";
      return;
    case '\r':
      out += "\\r";
      return;
    case '\t':
      out += "\\t";
      return;
    default: {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\u00";
      out += kHex[code >> 4];
      out += kHex[code & 0xF];
    }
  }
}

}  // namespace

std::string EscapeControlCharacters(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) {
      AppendEscape(out, c);
      ++i;
      continue;
    }
    size_t length = Utf8SequenceLength(text.substr(i));
    if (length == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD REPLACEMENT CHARACTER
      ++i;
    } else if (length == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0) {
      AppendEscape(out, static_cast<unsigned char>(text[i + 1]));  // C1: U+0080..U+009F
      i += 2;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
  }
  return out;
}

ApiError::ApiError(int status, const std::string& message, const std::string& param)
    : std::runtime_error(EscapeControlCharacters(message)),
      status_(status),
      param_(EscapeControlCharacters(param)) {}

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
  // Messages may quote client bytes (control characters, invalid UTF-8): escaped here too for
  // the callers that build a response without an ApiError, and serializing never throws.
  try {
    nlohmann::json error = {
        {"message", EscapeControlCharacters(message)},
        {"type", ErrorTypeForStatus(status)},
        {"param",
         param.empty() ? nlohmann::json(nullptr) : nlohmann::json(EscapeControlCharacters(param))},
        {"code", status}};
    return nlohmann::json{{"error", std::move(error)}}.dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace);
  } catch (...) {  // out of memory
    return std::string(R"({"error":{"message":"The error could not be serialized","type":")") +
           ErrorTypeForStatus(status) + R"(","param":null,"code":)" + std::to_string(status) + "}}";
  }
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
