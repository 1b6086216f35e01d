// Type-safe formatting: `{}` placeholders filled from typed arguments, into
// any byte sink (the serial console, a fixed buffer). No allocation, no
// locks: callable from any context, NMI included, given an NMI-safe sink.
//
// Spec grammar inside braces: `{[:[<][#][0][width][x|X|d|c|p]]}`.
//   `<` left-align, `#` 0x prefix, `0` zero-pad, width in bytes,
//   `x`/`X` hex, `d` decimal, `c` character, `p` pointer (0x + 16 digits).
// `{{` and `}}` are literal braces. Missing arguments print `{?}`; surplus
// arguments are ignored (both are bugs the format tests catch).
#pragma once

#include "src/base/str.h"
#include "src/base/types.h"

namespace base {

/// Where formatted bytes go: a plain function and its context, so the
/// kernel's early console needs no vtable.
struct Sink {
  void (*write)(void* ctx, const char* bytes, size_t n);
  void* ctx;
};

/// One argument, type-erased at the call site.
struct FormatArg {
  enum class Kind : uint8_t { kSigned, kUnsigned, kStr, kPtr, kChar, kBool };
  Kind kind;
  union {
    int64_t s;
    uint64_t u;
    const void* p;
    struct {
      const char* data;
      size_t size;
    } str;
  };

  constexpr FormatArg(signed char v) : kind(Kind::kSigned), s(v) {}
  constexpr FormatArg(short v) : kind(Kind::kSigned), s(v) {}
  constexpr FormatArg(int v) : kind(Kind::kSigned), s(v) {}
  constexpr FormatArg(long v) : kind(Kind::kSigned), s(v) {}
  constexpr FormatArg(long long v) : kind(Kind::kSigned), s(v) {}
  constexpr FormatArg(unsigned char v) : kind(Kind::kUnsigned), u(v) {}
  constexpr FormatArg(unsigned short v) : kind(Kind::kUnsigned), u(v) {}
  constexpr FormatArg(unsigned v) : kind(Kind::kUnsigned), u(v) {}
  constexpr FormatArg(unsigned long v) : kind(Kind::kUnsigned), u(v) {}
  constexpr FormatArg(unsigned long long v) : kind(Kind::kUnsigned), u(v) {}
  constexpr FormatArg(char v) : kind(Kind::kChar), u(static_cast<unsigned char>(v)) {}
  constexpr FormatArg(bool v) : kind(Kind::kBool), u(v) {}
  constexpr FormatArg(const char* v) : kind(Kind::kStr), str{v ? v : "(null)", cstr_len(v ? v : "(null)")} {}
  constexpr FormatArg(StrView v) : kind(Kind::kStr), str{v.data(), v.size()} {}
  constexpr FormatArg(const void* v) : kind(Kind::kPtr), p(v) {}
  constexpr FormatArg(void* v) : kind(Kind::kPtr), p(v) {}
  /// Enums print as their underlying integer.
  template <typename E>
  requires __is_enum(E) constexpr FormatArg(E v) : FormatArg(static_cast<__underlying_type(E)>(v)) {}
  /// Strong types (PhysAddr, CpuId, ...) print through their raw() value.
  template <typename T>
  requires requires(const T& t) { t.raw(); }
  constexpr FormatArg(const T& v) : FormatArg(v.raw()) {}
};

/// Formats `fmt` with `args` into `sink`; returns the bytes written.
size_t vformat(Sink sink, StrView fmt, const FormatArg* args, size_t nargs);

template <typename... Args>
size_t format(Sink sink, StrView fmt, const Args&... args) {
  if constexpr (sizeof...(Args) == 0) {
    return vformat(sink, fmt, nullptr, 0);
  } else {
    const FormatArg array[] = {FormatArg(args)...};
    return vformat(sink, fmt, array, sizeof...(Args));
  }
}

/// A sink over a fixed buffer: keeps the first `cap - 1` bytes and a NUL,
/// counts everything (so `length() >= cap` means the output was truncated).
class BufferSink {
 public:
  BufferSink(char* buf, size_t cap) : buf_(buf), cap_(cap) {
    if (cap_ > 0) buf_[0] = '\0';
  }
  Sink sink() { return Sink{&BufferSink::write_thunk, this}; }
  size_t length() const { return len_; }
  StrView view() const { return StrView(buf_, len_ < cap_ ? len_ : (cap_ ? cap_ - 1 : 0)); }

 private:
  static void write_thunk(void* ctx, const char* bytes, size_t n);
  char* buf_;
  size_t cap_;
  size_t len_ = 0;
};

/// `part` of `whole` as a percentage with one decimal, rounded, the whole
/// number right-aligned in five columns: "   68.2%". A `whole` of 0 gives
/// 0.0%. For tables of shares (`prof top`, `top`).
inline size_t format_percent(Sink sink, uint64_t part, uint64_t whole) {
  const uint64_t tenths = whole == 0 ? 0 : (part * 1000 + whole / 2) / whole;
  return format(sink, "{:5}.{}%", tenths / 10, tenths % 10);
}

/// snprintf-alike: formats into `buf` (always NUL-terminated when cap > 0)
/// and returns the untruncated length.
template <typename... Args>
size_t format_to(char* buf, size_t cap, StrView fmt, const Args&... args) {
  BufferSink b(buf, cap);
  format(b.sink(), fmt, args...);
  return b.length();
}

}  // namespace base
