// Console input by interrupt: COM1's ISA IRQ routed through the IOAPIC to
// the boot CPU, else input stays polled. Kernel only.
#pragma once

namespace arch {

/// Routes COM1's IRQ and switches the console to receive interrupts, or
/// says that input is polled. Boot CPU, after irq_routing_init.
void console_irq_init();

}  // namespace arch
