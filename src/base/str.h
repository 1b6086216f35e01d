// StrView: a non-owning (pointer, length) string, usable in the freestanding
// kernel where <string_view> does not exist. Callable from any context.
#pragma once

#include "src/base/types.h"

namespace base {

constexpr size_t cstr_len(const char* s) {
  size_t n = 0;
  while (s[n] != '\0') ++n;
  return n;
}

/// A view of `size()` bytes; not necessarily NUL-terminated.
class StrView {
 public:
  constexpr StrView() : data_(""), size_(0) {}
  constexpr StrView(const char* s) : data_(s), size_(cstr_len(s)) {}  // NOLINT
  constexpr StrView(const char* s, size_t n) : data_(s), size_(n) {}

  constexpr const char* data() const { return data_; }
  constexpr size_t size() const { return size_; }
  constexpr bool empty() const { return size_ == 0; }
  constexpr char operator[](size_t i) const { return data_[i]; }
  constexpr const char* begin() const { return data_; }
  constexpr const char* end() const { return data_ + size_; }

  /// Bytes [pos, pos + n), clamped to the view.
  constexpr StrView substr(size_t pos, size_t n = ~size_t{0}) const {
    if (pos > size_) pos = size_;
    if (n > size_ - pos) n = size_ - pos;
    return StrView(data_ + pos, n);
  }
  constexpr bool starts_with(StrView p) const { return p.size_ <= size_ && substr(0, p.size_) == p; }
  /// Index of the first `c`, or npos.
  constexpr size_t find(char c, size_t from = 0) const {
    for (size_t i = from; i < size_; ++i)
      if (data_[i] == c) return i;
    return npos;
  }
  constexpr bool operator==(StrView o) const {
    if (size_ != o.size_) return false;
    for (size_t i = 0; i < size_; ++i)
      if (data_[i] != o.data_[i]) return false;
    return true;
  }

  static constexpr size_t npos = ~size_t{0};

 private:
  const char* data_;
  size_t size_;
};

/// Splits `text` at every `sep` and calls `f(field)` for each field in
/// order, empty ones included ("a;;b" gives "a", "", "b"; "" gives one
/// empty field). Stops early when `f` returns false; returns whether it ran
/// to the end.
template <typename F>
constexpr bool for_each_field(StrView text, char sep, F f) {
  size_t i = 0;
  for (;;) {
    size_t end = text.find(sep, i);
    if (end == StrView::npos) end = text.size();
    if (!f(text.substr(i, end - i))) return false;
    if (end == text.size()) return true;
    i = end + 1;
  }
}

/// Shell-style glob: `*` matches any run, `?` one byte; everything else is
/// literal. Iterative with one backtrack point, so O(|pattern| * |text|).
constexpr bool glob_match(StrView pattern, StrView text) {
  size_t p = 0, t = 0, star = StrView::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != StrView::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace base
