// Stopping every other CPU when the kernel cannot go on (a panic, an
// unexpected exception): each is sent an NMI, records where it was in its
// snapshot and halts inside its NMI handler, so the report that follows is
// the only thing running and can show every CPU's backtrace after its own.
// Kernel only.
#pragma once

#include "src/arch/trap_frame.h"
#include "src/base/format.h"
#include "src/base/types.h"

namespace prof {

/// Stops every other CPU (a no-op before prof_init, or on a second call).
/// Called with interrupts off; works from NMI context too. If another CPU
/// is already stopping the world, this one waits for its NMI and never
/// returns. Then takes the console, by force if a stopped CPU held it.
void stop_other_cpus();

/// Prints each stopped CPU's snapshot (and names those that did not stop).
/// After stop_other_cpus(), with the console held.
void print_stopped_cpus(base::Sink out);

/// Whether the world is being stopped, and by another CPU than `cpu`.
bool world_stopped_by_other(uint32_t cpu);

/// The NMI handler's part: records `f` and halts forever. NMI context.
[[noreturn]] void park_stopped_cpu(const arch::TrapFrame& f);

}  // namespace prof
