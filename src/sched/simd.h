// The SIMD policy. Kernel code is built with -mno-sse -mno-mmx -mno-80387,
// so no interrupt handler and no switch ever touches vector or x87 state,
// and switch_context need not save it. Code that wants vector instructions
// (rt's SIMD counters, checksums) is marked SIMD_FUNCTION, which places it
// in .text.simd — the only place test/check_no_stray_simd.sh allows them —
// and is called only inside a SimdRegion, which disables preemption so no
// other thread can run on this CPU (and clobber the registers) meanwhile.
// Biscuit's runtime found the alternative the hard way: an interrupt path
// that used SSE corrupted a preempted thread's registers.
#pragma once

#include "src/sched/sched.h"

/// A function that may use SSE2 (call it only inside a SimdRegion). Kept
/// out of line so its vector code cannot be inlined into a caller outside
/// .text.simd.
#define SIMD_FUNCTION [[gnu::section(".text.simd"), gnu::target("sse2"), gnu::noinline]]

namespace sched {

/// Disables preemption for its lifetime; vector registers are this
/// thread's alone in between. Nests. Thread context.
class SimdRegion {
 public:
  SimdRegion() { preempt_disable(); }
  ~SimdRegion() { preempt_enable(); }
  SimdRegion(const SimdRegion&) = delete;
  SimdRegion& operator=(const SimdRegion&) = delete;
};

}  // namespace sched
