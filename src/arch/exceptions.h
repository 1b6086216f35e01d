// The exceptions arch resolves itself: #BP is reported and resumed, and a
// #PF or #GP taken by a probe instruction (safe_access) resumes at its
// fixup. Every other exception goes to the unhandled-trap handler (the
// crash report, prof/crash_report.h). Kernel only.
#pragma once

#include "src/base/types.h"

namespace arch {

/// Installs the #BP, #PF and #GP handlers; after idt_init().
void exceptions_init();

/// #BP traps taken (the breakpoint tests watch it). Any context.
uint64_t breakpoint_count();

/// Faults of probe instructions resumed through the fixup table. Any context.
uint64_t fixup_count();

}  // namespace arch
