// Status and Result<T>: how every module boundary in Pinhole reports failure.
//
// A Status carries a small closed Code (what kind of failure, used to pick an
// HTTP status or a retry policy) plus an API-level `reason` in snake_case
// (e.g. "cidr_too_wide") and a human message. Exceptions thrown by libraries
// are caught at the adapter edge and turned into a Status once.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace pinhole {

enum class Code {
  kOk,
  kInvalidArgument,    // 422 / 400: the request is wrong and retrying will not help
  kNotFound,           // 404
  kConflict,           // 409: state changed under us, or a unique name is taken
  kUnauthenticated,    // 401
  kPermissionDenied,   // 403
  kResourceExhausted,  // 429 / capacity
  kUnavailable,        // 503: a backend is down; retry later
  kInternal,           // 500: a bug or an unexpected library failure
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string reason, std::string message)
      : code_(code), reason_(std::move(reason)), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  static Status Invalid(std::string reason, std::string message) {
    return {Code::kInvalidArgument, std::move(reason), std::move(message)};
  }
  static Status NotFound(std::string message) {
    return {Code::kNotFound, "not_found", std::move(message)};
  }
  static Status Conflict(std::string reason, std::string message) {
    return {Code::kConflict, std::move(reason), std::move(message)};
  }
  static Status Denied(std::string reason, std::string message) {
    return {Code::kPermissionDenied, std::move(reason), std::move(message)};
  }
  static Status Unavailable(std::string message) {
    return {Code::kUnavailable, "unavailable", std::move(message)};
  }
  static Status Internal(std::string message) {
    return {Code::kInternal, "internal", std::move(message)};
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& reason() const { return reason_; }
  const std::string& message() const { return message_; }
  std::string ToString() const { return ok() ? "ok" : reason_ + ": " + message_; }

 private:
  Code code_ = Code::kOk;
  std::string reason_;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

#define PINHOLE_CONCAT_INNER(a, b) a##b
#define PINHOLE_CONCAT(a, b) PINHOLE_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` failed.
#define RETURN_IF_ERROR(expr)       \
  do {                              \
    ::pinhole::Status _st = (expr); \
    if (!_st.ok()) return _st;      \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, MakeX());`
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(PINHOLE_CONCAT(_res_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()

}  // namespace pinhole
