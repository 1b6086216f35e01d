// Fatal-error reporting shared by panics and unhandled exceptions: a
// frame-pointer backtrace of the boot stack, then the end of the QEMU run
// with a failure status.
#pragma once

#include "src/base/types.h"

namespace kernel {

/// Prints "backtrace:" and one return address per line, starting at `rbp`.
void print_backtrace(uint64_t rbp);

/// Ends the run with a failure status; halts if there is no exit device.
[[noreturn]] void fail_stop();

}  // namespace kernel
