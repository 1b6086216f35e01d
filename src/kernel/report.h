// Fatal-error reporting shared by panics and unhandled exceptions: a
// frame-pointer backtrace of the boot stack, then the end of the QEMU run
// with a failure status.
#pragma once

#include "src/arch/stacks.h"
#include "src/base/types.h"

namespace kernel {

/// Classifies `addr` among every kernel stack: arch's static ones, then
/// the current thread's (sched's). Any context.
bool find_any_stack(uint64_t addr, arch::StackInfo* info);

/// Prints "backtrace:" and one return address per line, starting at `rbp`.
void print_backtrace(uint64_t rbp);

/// Ends the run with a failure status; halts if there is no exit device.
[[noreturn]] void fail_stop();

}  // namespace kernel
