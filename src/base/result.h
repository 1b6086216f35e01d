// Error codes and Result<T>: how recoverable failures are reported (no
// exceptions anywhere). Callable from any context.
#pragma once

#include "src/base/types.h"

namespace base {

/// Why an operation failed. Values are stable; names come from error_name().
enum class Error : int {
  kInvalidArgument = 1,
  kOutOfMemory,
  kOutOfRange,
  kNotFound,
  kAlreadyExists,
  kMalformed,
  kUnsupported,
  kBusy,
  kTimedOut,
  kAgain,
  kFault,
  kCancelled,
};

/// A short lowercase name for `e`, for messages.
const char* error_name(Error e);

/// Either a T or an Error. `value()` on an error is a broken invariant and
/// panics; check `ok()` first.
template <typename T>
class [[nodiscard]] Result {
 public:
  constexpr Result(T value) : value_(value), error_(0) {}               // NOLINT: implicit by design
  constexpr Result(Error e) : value_(), error_(static_cast<int>(e)) {}  // NOLINT

  constexpr bool ok() const { return error_ == 0; }
  constexpr Error error() const { return static_cast<Error>(error_); }
  constexpr const T& value() const {
    if (!ok()) __builtin_trap();
    return value_;
  }
  constexpr T& value() {
    if (!ok()) __builtin_trap();
    return value_;
  }
  constexpr T value_or(T fallback) const { return ok() ? value_ : fallback; }

 private:
  T value_;
  int error_;
};

/// Success or an Error, with no value.
class [[nodiscard]] Status {
 public:
  constexpr Status() : error_(0) {}
  constexpr Status(Error e) : error_(static_cast<int>(e)) {}  // NOLINT
  static constexpr Status Ok() { return Status(); }
  constexpr bool ok() const { return error_ == 0; }
  constexpr Error error() const { return static_cast<Error>(error_); }

 private:
  int error_;
};

}  // namespace base
