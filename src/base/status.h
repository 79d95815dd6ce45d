// Status and Result<T>: how errors cross module boundaries.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace lantern {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kUnimplemented,
  kDataLoss,  // a file is corrupt or truncated
  kResourceExhausted,
  kFailedPrecondition,
  kUnavailable,
  kDeadlineExceeded,
  kAborted,
  kInternal,
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "INVALID_ARGUMENT: message", or "OK".
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status ResourceExhausted(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// A value or an error Status. Construct from either; check ok() before value().
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : data_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(data_).ok() && "Result built from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(data_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(data_);
  }
  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace lantern

// Early return of a non-OK Status (or Result's status) from a function returning Status
// or Result<U>.
#define LANTERN_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    auto _lantern_status = (expr);                     \
    if (!_lantern_status.ok()) return _lantern_status; \
  } while (0)

#define LANTERN_CONCAT_INNER(a, b) a##b
#define LANTERN_CONCAT(a, b) LANTERN_CONCAT_INNER(a, b)
// LANTERN_ASSIGN_OR_RETURN(auto x, MakeX()); returns the error status if MakeX failed.
#define LANTERN_ASSIGN_OR_RETURN(lhs, expr)                     \
  auto LANTERN_CONCAT(_lantern_result_, __LINE__) = (expr);     \
  if (!LANTERN_CONCAT(_lantern_result_, __LINE__).ok())         \
    return LANTERN_CONCAT(_lantern_result_, __LINE__).status(); \
  lhs = std::move(LANTERN_CONCAT(_lantern_result_, __LINE__)).value()
