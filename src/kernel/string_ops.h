// The byte-string operations behind the kernel's memcpy, memmove, memset and
// memcmp ([C11] 7.24), as inline functions under their own names, so host
// tests exercise the very code the kernel links (the host's libc keeps its
// own memcpy). Any context; x86-64 only.
//
// `rep movsq`/`rep stosq` and a byte tail: the same speed as `rep movsb` on
// ERMSB hardware, and an eighth of the iterations where each one counts
// (QEMU's -icount counts every iteration as an instruction, and the
// benchmarks count instructions).
#pragma once

#include "src/base/types.h"

namespace kernel {

inline void* copy_bytes(void* dst, const void* src, size_t n) {
  void* d = dst;
  size_t words = n / 8, tail = n % 8;
  asm volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(words)::"memory");
  asm volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(tail)::"memory");
  return dst;
}

// A forward copy is right whenever dst is below src (each word is read
// before anything at or above it is written) or the ranges are apart.
inline void* move_bytes(void* dst, const void* src, size_t n) {
  auto* d = static_cast<unsigned char*>(dst);
  auto* s = static_cast<const unsigned char*>(src);
  if (d <= s || d >= s + n) return copy_bytes(dst, src, n);
  // Overlap with dst above src: copy backwards (direction flag set only
  // for the duration, as the ABI requires DF clear at calls).
  void* dl = d + n - 1;
  const void* sl = s + n - 1;
  asm volatile("std; rep movsb; cld" : "+D"(dl), "+S"(sl), "+c"(n)::"memory");
  return dst;
}

inline void* fill_bytes(void* dst, int c, size_t n) {
  void* d = dst;
  const uint64_t pattern = uint64_t{static_cast<unsigned char>(c)} * 0x0101'0101'0101'0101ull;
  size_t words = n / 8, tail = n % 8;
  asm volatile("rep stosq" : "+D"(d), "+c"(words) : "a"(pattern) : "memory");
  asm volatile("rep stosb" : "+D"(d), "+c"(tail) : "a"(pattern) : "memory");
  return dst;
}

inline int compare_bytes(const void* a, const void* b, size_t n) {
  auto* x = static_cast<const unsigned char*>(a);
  auto* y = static_cast<const unsigned char*>(b);
  for (size_t i = 0; i < n; ++i)
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}

}  // namespace kernel
