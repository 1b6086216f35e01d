// Work put on one particular CPU: fn(arg) run once by a thread pinned to an
// application processor — how in-kernel tests make a given CPU do
// something. Kernel only, thread context.
#pragma once

#include "src/arch/cpu_index.h"
#include "src/base/result.h"
#include "src/base/types.h"

namespace sched {

/// Runs fn(arg) once on application processor `cpu`. kBusy while that CPU
/// still has earlier work, kInvalidArgument for CPU 0 or a CPU not online,
/// kOutOfMemory when no thread can be made.
base::Status run_on(arch::CpuIndex cpu, void (*fn)(void*), void* arg);

/// Waits (pausing) until `cpu` has finished what run_on gave it.
void run_on_wait(arch::CpuIndex cpu);

}  // namespace sched
