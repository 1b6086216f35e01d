// What a kernel built on biscotti provides and gets (biscotti_kernel in
// tools/biscotti_kernel.bzl links it with the runtime). The application
// defines kernel::app_main; everything else it uses is the runtime's own
// API (src/sched/thread.h, src/sched/sync.h, src/rt/reserve.h, ...), and it
// may register monitor commands (MONITOR_COMMAND) and in-kernel tests
// (KTEST) in its sources like any module.
#pragma once

namespace kernel {

/// The application's entry point, defined by the application (once: a
/// second definition is a link error). It runs as thread "app" once the
/// runtime is up: every CPU online, interrupts on, the heap, reservations
/// and prof ready. The command line's jobs or the prompt run beside it, on
/// the boot thread, and the first of the two to end the run ends it.
/// Returning ends the thread only. The runtime alone, with no application,
/// starts no such thread.
void app_main();

/// Ends the run from the application: QEMU exits with the fail status when
/// `passed` is false or a monitor command of this run failed, and with the
/// pass status otherwise. Thread context.
[[noreturn]] void app_power_off(bool passed);

}  // namespace kernel
