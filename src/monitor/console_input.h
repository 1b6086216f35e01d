// The monitor's console input: it owns the UART's receive interrupt (COM1's
// ISA IRQ routed through the IOAPIC to the boot CPU), whose handler fills
// arch's receive ring and wakes the monitor's thread. The thread waits by
// blocking, so the CPU runs other threads meanwhile (and idles, halted,
// when there are none). Without an IOAPIC route, input is polled. Kernel
// only.
#pragma once

namespace monitor {

/// Routes COM1's IRQ and installs the handler, or says that input is
/// polled. Boot CPU, after irq_routing_init, before the monitor runs.
void console_input_init();

/// Blocks until the console has input (or, with input polled, for a
/// millisecond). Thread context; one reader: the monitor's thread.
void wait_for_console_input();

}  // namespace monitor
