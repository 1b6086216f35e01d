// Device interrupts through the IOAPICs: discovered from the MADT, every
// pin masked at boot, ISA IRQs routed (with the MADT's interrupt source
// overrides) to a vector on a chosen CPU. Boot CPU, thread context.
#pragma once

#include "src/base/result.h"
#include "src/kernel/platform.h"

namespace kernel {

/// Maps and masks every IOAPIC the MADT lists.
void irq_init(const Platform& platform);

/// Routes ISA IRQ `irq` to `vector` on CPU `cpu` (and unmasks it).
/// kNotFound when no IOAPIC serves the IRQ's GSI.
base::Status route_isa_irq(uint8_t irq, uint8_t vector, uint32_t cpu);

}  // namespace kernel
