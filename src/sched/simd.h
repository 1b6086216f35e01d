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
#include "src/sched/simd_function.h"

namespace sched {

/// Disables preemption for its lifetime; vector registers are this
/// thread's alone in between. Nests. Thread context.
///
/// This is also why the region saves no XMM/YMM state: with preemption off
/// no other thread runs on this CPU until the region ends, and interrupt
/// and NMI handlers are built with -mno-sse (no vector instructions, which
/// test/check_no_stray_simd.sh proves), so the registers, YMM upper halves
/// included, are left exactly as the region's code put them. What a region
/// leaves in them afterwards is dead: nothing outside a region reads them.
class SimdRegion {
 public:
  SimdRegion() { preempt_disable(); }
  ~SimdRegion() { preempt_enable(); }
  SimdRegion(const SimdRegion&) = delete;
  SimdRegion& operator=(const SimdRegion&) = delete;
};

}  // namespace sched
