// What the kernel prints when it cannot go on: an unexpected exception's
// name, error code, faulting context, registers and backtrace, or a panic's
// message and backtrace; then the run ends with the failure status.
// Kernel only; any context.
#pragma once

#include "src/base/types.h"

namespace prof {

/// Becomes arch's unhandled-trap handler: every exception arch does not
/// resolve itself (arch/exceptions.h) is reported and stops the run.
void crash_report_init();

/// Prints "backtrace:" and one return address per line, starting at `rbp`,
/// through trap frames into the contexts they interrupted, and why the walk
/// ended (kernel_unwind.h: a corrupt chain ends it instead of faulting).
void print_backtrace(uint64_t rbp);

/// Ends the run with the failure status; halts if there is no exit device.
[[noreturn]] void fail_stop();

}  // namespace prof
