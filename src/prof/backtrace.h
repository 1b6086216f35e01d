// Frame-pointer unwinder. Every kernel function keeps RBP as a frame pointer
// (-fno-omit-frame-pointer), so [rbp] is the caller's RBP and [rbp + 8] the
// return address. Each frame must lie on the given stack and above the
// previous one, so a corrupt chain ends the walk instead of faulting.
// Takes no locks and allocates nothing: callable from any context, NMI too.
#pragma once

#include "src/base/types.h"

namespace prof {

/// Bounds of the stack being unwound: [lo, hi).
struct StackBounds {
  uint64_t lo;
  uint64_t hi;
};

/// Why a walk ended.
enum class WalkEnd { kZeroFrame, kOffStack, kNotAscending, kMisaligned, kFull };

/// Fills `pcs` with return addresses, innermost first; returns how many and,
/// in `end`, why it stopped. `read` is how memory is read (direct loads in
/// the kernel, a simulated stack in tests).
template <typename ReadWord>
size_t walk_frames(uint64_t rbp, StackBounds stack, uint64_t* pcs, size_t max, WalkEnd* end,
                   ReadWord read) {
  size_t n = 0;
  for (;;) {
    if (rbp == 0) {
      *end = WalkEnd::kZeroFrame;
      return n;
    }
    if (rbp % 8 != 0) {
      *end = WalkEnd::kMisaligned;
      return n;
    }
    if (rbp < stack.lo || rbp > stack.hi - 16) {
      *end = WalkEnd::kOffStack;
      return n;
    }
    if (n == max) {
      *end = WalkEnd::kFull;
      return n;
    }
    uint64_t next = read(rbp);
    pcs[n++] = read(rbp + 8);
    if (next != 0 && next <= rbp) {
      *end = WalkEnd::kNotAscending;
      return n;
    }
    rbp = next;
  }
}

inline const char* walk_end_name(WalkEnd e) {
  switch (e) {
    case WalkEnd::kZeroFrame: return "end of chain";
    case WalkEnd::kOffStack: return "frame pointer left the stack";
    case WalkEnd::kNotAscending: return "frame chain not ascending";
    case WalkEnd::kMisaligned: return "misaligned frame pointer";
    case WalkEnd::kFull: return "truncated";
  }
  return "?";
}

}  // namespace prof
