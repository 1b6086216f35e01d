// The application processors' stacks, mapped by the kernel (which owns
// memory) once the MADT has been read, in the layout arch dictates
// (src/arch/ap_stack_layout.h), and handed to arch (stacks.h).
#pragma once

#include "src/arch/acpi.h"
#include "src/base/types.h"

namespace kernel {

/// The APs `madt` lists that could start: enabled, not the boot CPU (whose
/// APIC id is `boot_apic_id`), at most MAX_CPUS - 1.
uint32_t aps_listed(const arch::acpi::Madt& madt, uint32_t boot_apic_id);

/// Maps the stacks of `aps` APs (guard pages left unmapped) and gives them
/// to arch. If memory runs out it says so and maps none: only the boot CPU
/// then starts. Boot CPU, thread context, before smp_start_aps.
void map_ap_stacks(uint32_t aps);

}  // namespace kernel
