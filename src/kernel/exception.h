// Reports for CPU exceptions: an unexpected exception prints its name, error
// code, the faulting context, all registers and a backtrace, then fails the
// run. #BP is recoverable: it is reported and execution resumes.
#pragma once

#include "src/base/types.h"

namespace kernel {

/// Installs the handlers; call after arch::idt_init().
void exception_init();

/// How many #BP traps have been taken (the breakpoint test watches it).
uint64_t breakpoint_count();

/// Faults of probe instructions resumed through the fixup table.
uint64_t fixup_count();

}  // namespace kernel
