// Every kernel stack: the boot CPU's (boot_entry.S) and its four IST
// stacks (NMI, double fault, machine check, page fault), and per
// application processor a landing stack, a kernel stack and four IST
// stacks — each with an unmapped guard page below it, so that an overflow
// faults on the guard and the page-fault handler, on its own IST stack,
// reports "kernel stack overflow". The boot CPU's are static: its IST
// stacks must exist before the first exception, long before mm's page
// allocator does. The APs' are mapped by the kernel once the MADT says how
// many CPUs there are (ap_stack_layout.h), so that the image does not carry
// MAX_CPUS CPUs' stacks (4.4 MB at 64) that a small machine cannot load.
// Threads' stacks, which come later, are allocated by sched.
#pragma once

#include "src/arch/ap_stack_layout.h"
#include "src/arch/cpu_index.h"
#include "src/arch/tss.h"
#include "src/base/addr.h"
#include "src/base/types.h"

namespace arch {

/// Unmaps every guard page of the image in the boot page tables (boot CPU,
/// before the others start); mm's page tables leave them out
/// (is_stack_guard_page).
void stacks_unmap_guards();

/// Adopts the APs' stacks: `aps` slots in the ap_stack_region_bytes(aps)
/// at `region`, every kApStackPieces piece of every slot mapped writable
/// and every guard page unmapped, for good. Boot CPU, once, before
/// smp_start_aps; without it no AP has stacks (stacks_cpus() is 1).
void stacks_set_ap_region(uint64_t region, uint32_t aps);

/// CPUs that have stacks: the boot CPU and the APs of the region. Any
/// context.
uint32_t stacks_cpus();

/// True for the page at `va` if it is a stack's guard page.
bool is_stack_guard_page(base::VirtAddr va);

/// Fills CPU `index`'s TSS (IST stacks) and loads it on this CPU.
void stacks_install_tss(CpuIndex index);

/// CPU `index`'s TSS (tests corrupt an IST pointer to provoke a #DF).
Tss& cpu_tss(CpuIndex index);

/// The guard page below CPU `index`'s page-fault IST stack.
uint64_t page_fault_stack_guard(CpuIndex index);

/// Top of the kernel stack of application processor `index` (>= 1).
uint64_t ap_kernel_stack_top(CpuIndex index);

/// Top of the landing stack of arrival ticket `ticket` (< stacks_cpus() - 1).
uint64_t ap_landing_stack_top(uint32_t ticket);

/// Classifies `addr` among these stacks; false if it lies in none of them
/// or their guards (a thread's stack is sched's to classify). Any context,
/// NMI included: address arithmetic only.
bool find_stack(base::VirtAddr addr, StackInfo* info);

}  // namespace arch
