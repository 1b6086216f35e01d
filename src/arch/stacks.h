// Every kernel stack: the boot CPU's (boot_entry.S), one per application
// processor, and per CPU the four IST stacks (NMI, double fault, machine
// check, page fault) — each with an unmapped guard page below it, so that
// an overflow faults on the guard and the page-fault handler, on its own
// IST stack, reports "kernel stack overflow". Statically sized by
// MAX_CPUS: the boot CPU's IST stacks must exist before the first
// exception, long before mm's page allocator does (threads' stacks, which
// come later, are allocated by sched).
#pragma once

#include "src/arch/cpu_index.h"
#include "src/arch/tss.h"
#include "src/base/types.h"

namespace arch {

inline constexpr size_t kKernelStackSize = 16 * 1024;
inline constexpr size_t kIstStackSize = 8 * 1024;

/// Unmaps every guard page in the boot page tables (boot CPU, before the
/// others start); mm's page tables leave them out (is_stack_guard_page).
void stacks_unmap_guards();

/// True for the page at `va` if it is a stack's guard page.
bool is_stack_guard_page(uint64_t va);

/// Fills CPU `index`'s TSS (IST stacks) and loads it on this CPU.
void stacks_install_tss(CpuIndex index);

/// CPU `index`'s TSS (tests corrupt an IST pointer to provoke a #DF).
Tss& cpu_tss(CpuIndex index);

/// The guard page below CPU `index`'s page-fault IST stack.
uint64_t page_fault_stack_guard(CpuIndex index);

/// Top of the kernel stack of application processor `index` (>= 1).
uint64_t ap_kernel_stack_top(CpuIndex index);

/// What a stack address is: which stack, its usable bounds, and whether
/// the address lies in its guard page.
struct StackInfo {
  const char* what = nullptr;  // "boot stack", "kernel stack", "NMI stack", ...
  uint32_t cpu = 0;
  uint64_t lo = 0, hi = 0;
  bool in_guard = false;
};

/// Classifies `addr` among these static stacks; false if it lies in none
/// of them or their guards (a thread's stack is sched's to classify). Any
/// context.
bool find_stack(uint64_t addr, StackInfo* info);

}  // namespace arch
