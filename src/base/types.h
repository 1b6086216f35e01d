// Fixed-width integer types and size_t, from Clang's builtin headers only, so
// the same include works in the freestanding kernel and on the host.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace base {

/// Size of a 4 KiB page, the unit of every physical and virtual mapping.
inline constexpr uint64_t kPageSize = 4096;
inline constexpr uint64_t kPageShift = 12;

constexpr uint64_t align_down(uint64_t v, uint64_t a) { return v & ~(a - 1); }
/// Rounds up; the caller guarantees v + a - 1 does not wrap.
constexpr uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }
constexpr bool is_aligned(uint64_t v, uint64_t a) { return (v & (a - 1)) == 0; }
constexpr bool is_pow2(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

}  // namespace base
