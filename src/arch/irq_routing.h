// Device interrupts through the IOAPICs: every pin masked at boot, ISA IRQs
// routed (with the MADT's interrupt source overrides) to a vector on a
// chosen CPU. Kernel only; boot CPU, thread context.
#pragma once

#include "src/arch/acpi.h"
#include "src/arch/cpu_index.h"
#include "src/arch/vectors.h"
#include "src/base/addr.h"
#include "src/base/result.h"
#include "src/base/span.h"
#include "src/base/types.h"

namespace arch {

/// The most IOAPICs routed (acpi::MadtArrays' default capacity).
inline constexpr size_t kMaxIoApics = 16;

/// [ioapic] 3.0: an IOAPIC's register window, IOREGSEL and IOWIN.
inline constexpr size_t kIoApicWindowBytes = 0x20;

/// Masks every IOAPIC `madt` lists; `ioapic_va[i]` is where the i-th one's
/// window is mapped (uncached). `madt` must outlive the routing.
void irq_routing_init(const acpi::Madt& madt, base::Span<const base::VirtAddr> ioapic_va);

/// Routes ISA IRQ `irq` to `vector` on CPU `cpu` (and unmasks it).
/// kNotFound when no IOAPIC serves the IRQ's GSI (or there is no MADT).
base::Status route_isa_irq(uint8_t irq, Vector vector, CpuIndex cpu);

/// Routes ISA IRQ `irq` to CPU `cpu` as an NMI (and unmasks it): the
/// profiler's periodic source, which reaches the CPU whatever its interrupt
/// flag. kNotFound as route_isa_irq.
base::Status route_isa_irq_nmi(uint8_t irq, CpuIndex cpu);

/// Masks ISA IRQ `irq` at its IOAPIC pin; kNotFound as route_isa_irq.
base::Status mask_isa_irq(uint8_t irq);

}  // namespace arch
