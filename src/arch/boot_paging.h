// Adjustments to the boot page tables (boot_entry.S: the low 4 GiB
// identity-mapped with 2 MiB pages) until mm builds the real ones. Boot CPU,
// before the other CPUs start.
#pragma once

#include "src/base/addr.h"
#include "src/base/types.h"

namespace arch {

/// Makes the 2 MiB identity page holding `phys` (< 4 GiB) uncached
/// (PCD|PWT, [sdm3] 11.12.3), as device registers such as the LAPIC's need.
void boot_map_uncached(base::PhysAddr phys);

/// Unmaps the 4 KiB page at kernel-window address `va` (a stack guard),
/// splitting its 2 MiB page into 4 KiB entries first. The physical page is
/// shared with the identity view, which loses it too. Call boot_flush_tlb()
/// after a batch.
void boot_unmap_kernel_page(base::VirtAddr va);

/// Reloads CR3: drops every non-global translation on this CPU.
void boot_flush_tlb();

}  // namespace arch
