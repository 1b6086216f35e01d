// The vocabulary of stack walks: a stack's bounds and why a walk ended.
// The walker itself is unwind.h; sample_ring.h records WalkEnd per sample.
#pragma once

#include "src/base/types.h"

namespace prof {

/// Bounds of a stack's usable part: [lo, hi).
struct StackBounds {
  uint64_t lo;
  uint64_t hi;
};

/// Why a walk ended (unwind.h says when each happens). Values are recorded
/// in samples (sample_ring.h): append, never renumber.
enum class WalkEnd {
  kZeroFrame,
  kOffStack,
  kNotAscending,
  kMisaligned,
  kFull,
  kBadStackSwitch,
  kBadTrapFrame,
};

/// The largest WalkEnd (sample_ring.h checks that its field holds it).
inline constexpr WalkEnd kLastWalkEnd = WalkEnd::kBadTrapFrame;

inline const char* walk_end_name(WalkEnd e) {
  switch (e) {
    case WalkEnd::kZeroFrame:
      return "end of chain";
    case WalkEnd::kOffStack:
      return "frame pointer left the known stacks";
    case WalkEnd::kNotAscending:
      return "frame chain not ascending";
    case WalkEnd::kMisaligned:
      return "misaligned frame pointer";
    case WalkEnd::kFull:
      return "truncated";
    case WalkEnd::kBadStackSwitch:
      return "frame chain switched stacks outside a trap frame";
    case WalkEnd::kBadTrapFrame:
      return "corrupt trap frame";
  }
  return "?";
}

}  // namespace prof
