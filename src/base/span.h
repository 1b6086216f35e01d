// Span<T>: a non-owning (pointer, count) array view for the freestanding
// kernel. Callable from any context.
#pragma once

#include "src/base/types.h"

namespace base {

template <typename T>
class Span {
 public:
  constexpr Span() : data_(nullptr), size_(0) {}
  constexpr Span(T* data, size_t size) : data_(data), size_(size) {}
  template <size_t N>
  constexpr Span(T (&array)[N]) : data_(array), size_(N) {}  // NOLINT

  constexpr T* data() const { return data_; }
  constexpr size_t size() const { return size_; }
  constexpr bool empty() const { return size_ == 0; }
  constexpr T& operator[](size_t i) const { return data_[i]; }
  constexpr T* begin() const { return data_; }
  constexpr T* end() const { return data_ + size_; }
  constexpr Span subspan(size_t pos, size_t n) const { return Span(data_ + pos, n); }

 private:
  T* data_;
  size_t size_;
};

}  // namespace base
