// What a CPU was doing when a sample or snapshot interrupted it: its idle
// thread, an interrupt or exception handler, or a thread; and which pcs of
// its unwind are instructions rather than return addresses. Kernel only; any
// context, NMI included.
#pragma once

#include "src/arch/percpu.h"
#include "src/base/types.h"
#include "src/prof/kernel_symbols.h"
#include "src/prof/sample_ring.h"

namespace prof {

/// `pcs` is the interrupted context's unwind (unwind_from_trap): a handler
/// was running when the chain passes through a trap frame, i.e. holds
/// trap_common_return. Idle when the CPU runs its idle thread (whatever
/// interrupt woke it).
SampleMode interrupted_mode(const arch::PerCpu& cpu, const uint64_t* pcs, size_t n);

/// How to symbolize pcs[i] of such an unwind: pcs[0] and the pc after
/// trap_common_return are interrupted instructions, the rest return
/// addresses.
PcKind unwound_pc_kind(const uint64_t* pcs, size_t i);

/// The same for a walk that starts from a frame pointer (a panic's
/// backtrace), whose pcs[0] is a return address too: one past a call to
/// a noreturn function, it can be the byte after its function's end.
PcKind frame_walk_pc_kind(const uint64_t* pcs, size_t i);

}  // namespace prof
