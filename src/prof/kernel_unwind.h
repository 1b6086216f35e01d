// The unwinder (unwind.h) over the kernel's own stacks: arch's static ones
// (boot, per-CPU kernel, IST) and the running thread's (sched's), read with
// plain loads, crossing trap frames at trap_common_return. Kernel only. Any
// context, NMI included: no locks, no allocation, no probe faults (reads
// stay inside stacks that are mapped; guard pages are not a stack's).
#pragma once

#include "src/arch/stacks.h"
#include "src/arch/trap_frame.h"
#include "src/base/types.h"
#include "src/prof/backtrace.h"

namespace prof {

/// Classifies `addr` among every kernel stack: arch's static ones, then the
/// current thread's (sched's).
bool find_any_stack(uint64_t addr, arch::StackInfo* info);

/// The usable bounds of the kernel stack holding `addr`; false if none
/// does, or `addr` is in a guard page.
bool kernel_stack_bounds(uint64_t addr, StackBounds* out);

/// The interrupted context of `f` (the NMI sampler's, the crash report's):
/// f.rip, then the return addresses of its chain, innermost first, through
/// any trap frames below; returns how many and, in `end`, why the walk
/// stopped.
size_t unwind_from_trap(const arch::TrapFrame& f, uint64_t* pcs, size_t max, WalkEnd* end);

/// The chain from the frame pointer `rbp` (e.g. __builtin_frame_address(0)):
/// its return addresses, innermost first, through trap frames into the
/// contexts they interrupted.
size_t unwind_from_frame(uint64_t rbp, uint64_t* pcs, size_t max, WalkEnd* end);

}  // namespace prof
