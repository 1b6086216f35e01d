// A byte pattern that depends on an object's address, for tests that fill
// memory they allocate and check it later: a block handed out twice, or
// written by someone else meanwhile, no longer matches. Any context.
#pragma once

#include "src/base/types.h"

namespace ktest {

/// The pattern's byte `i` for the object at `p`.
inline uint8_t pattern_byte(const void* p, size_t i) {
  return static_cast<uint8_t>((reinterpret_cast<uint64_t>(p) >> 4) * 31 + i);
}

/// Fills `n` bytes at `p` with its pattern.
inline void fill_pattern(void* p, size_t n) {
  for (size_t i = 0; i < n; ++i) static_cast<uint8_t*>(p)[i] = pattern_byte(p, i);
}

/// Whether the `n` bytes at `p` still hold its pattern.
inline bool pattern_intact(const void* p, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (static_cast<const uint8_t*>(p)[i] != pattern_byte(p, i)) return false;
  return true;
}

}  // namespace ktest
