// The lockup watchdog (issue 13, item 8): at every periodic NMI it gets (the
// boot CPU 20 a second, the others 2, and none while halted idle) each CPU
// checks that its timer tick advanced, or that it runs with interrupts on,
// within the limit (`watchdog=SECONDS`, default 10, 0 = off). A CPU that
// did neither reports "watchdog: CPU k stuck for N s" with its registers
// and backtrace, once per episode, from its own NMI handler: it is the only
// CPU that knows where it is stuck. Kernel only.
#pragma once

#include "src/arch/trap_frame.h"
#include "src/base/types.h"

namespace prof {

/// Sets the limit (0 turns the checks off). Boot CPU, before the periodic
/// NMI starts (prof_init).
void watchdog_configure(uint32_t seconds);

/// The limit in seconds (0: off).
uint32_t watchdog_seconds();

/// This CPU's check, from its NMI handler.
void watchdog_check(const arch::TrapFrame& f);

/// Reports made by every CPU so far.
uint64_t watchdog_reports();

}  // namespace prof
