// CPU snapshots: where a CPU is, taken by its own NMI handler, for `bt`,
// for the watchdog's report and for a panic that stops every CPU. The
// asking CPU prints them one at a time, so no two CPUs' reports interleave
// and no NMI handler prints (it might interrupt the console's holder).
// Kernel only.
#pragma once

#include "src/arch/trap_frame.h"
#include "src/base/format.h"
#include "src/base/result.h"
#include "src/prof/cpu_prof.h"

namespace prof {

/// Fills `out` from the interrupted frame `f` of this CPU. NMI context
/// (or any context with a frame to describe).
void capture_snapshot(const arch::TrapFrame& f, CpuSnapshot* out);

/// Prints `s` as CPU `cpu`'s: thread, mode, RIP, registers, backtrace.
/// The caller holds the console.
void print_snapshot(base::Sink out, uint32_t cpu, const CpuSnapshot& s);

/// Asks CPU `cpu` for a snapshot by NMI and waits (pausing) up to
/// `bound_ns` for it. kInvalidArgument for a CPU that is not online,
/// kTimedOut when it did not answer. Thread context, one asker at a time
/// (bt_command serializes).
base::Status request_snapshot(uint32_t cpu, uint64_t bound_ns);

}  // namespace prof
