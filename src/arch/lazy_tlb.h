// Lazy TLB for idle CPUs: each CPU's LazyTlbWord (lazy_tlb_word.h has the
// protocol and its argument). The idle loop enters lazy mode just before it
// halts; the CPU leaves it first thing in any trap that wakes it
// (trap_dispatch) and again on the idle loop's way out; mm's shootdown
// skips a lazy CPU. Kernel only; any context, NMI included.
//
// Why every trap leaves lazy mode before its handler runs, rather than only
// the idle loop: handlers that run on an idle CPU do touch kernel virtual
// addresses that are mapped and unmapped at run time. The timer tick runs
// timer callbacks and wakes threads (a Timer may live on a sleeping
// thread's stack, and stacks are mapped in the VA window and unmapped when
// a thread is reaped, the VA then reused); the NMI sampler and the
// watchdog write buffers from the heap (whose large objects are VA-window
// mappings); the wake IPI reads the run queues' threads. A stale entry
// there would read the old frame, freed and reused. What a trap touches
// before trap_dispatch's first line is mapped for the CPU's whole life and
// never remapped: the kernel image (IDT, GDT, this file's words), the idle
// thread's stack, the IST stacks and the per-CPU block. Kernel page tables
// are never freed (alloc_map.cc), so no paging-structure cache of a lazy
// CPU can point at a freed table either ([sdm3] 4.10.3).
#pragma once

#include "src/arch/cpu_index.h"
#include "src/arch/lazy_tlb_word.h"
#include "src/arch/percpu.h"
#include "src/arch/smp.h"
#include "src/base/types.h"

namespace arch {
namespace internal {

struct alignas(64) LazyTlbSlot {  // a line each: shooters write them, their CPUs read them on every trap
  LazyTlbWord word;
};
extern LazyTlbSlot lazy_tlb_slots[kMaxCpus];

// The flush exit() asked for (out of line: rare).
void lazy_tlb_flush(LazyTlbWord& w);

}  // namespace internal

/// This CPU (`self`, its index, which callers have at hand), interrupts
/// off, immediately before it halts in idle: TLB shootdowns skip it until
/// it wakes. Nothing between this and the HLT may touch a kernel address
/// that can be unmapped.
inline void lazy_tlb_enter(CpuIndex self) { internal::lazy_tlb_slots[self.value].word.enter(); }

/// This CPU (`self`), on waking from a lazy halt, before anything else:
/// flushes the whole TLB if a shootdown skipped it meanwhile. One load and
/// a branch when the CPU was not lazy (every trap calls it).
inline void lazy_tlb_exit(CpuIndex self) {
  LazyTlbWord& w = internal::lazy_tlb_slots[self.value].word;
  if (w.exit()) [[unlikely]]
    internal::lazy_tlb_flush(w);
}

/// A shooter: once per shootdown, after its page-table change and before
/// any lazy_tlb_skip().
inline void lazy_tlb_order_before_scan() { LazyTlbWord::order_before_scan(); }

/// A shooter: true if CPU `cpu` is halted in idle and will flush when it
/// wakes, so it need not be interrupted; false if it must be.
inline bool lazy_tlb_skip(CpuIndex cpu) { return internal::lazy_tlb_slots[cpu.value].word.skip(); }

/// Whether CPU `cpu` is halted in idle, lazily, now (benchmarks that want
/// the other CPUs idle, tests).
inline bool lazy_tlb_idle(CpuIndex cpu) { return internal::lazy_tlb_slots[cpu.value].word.lazy(); }

/// Idle periods of CPU `cpu` that ended in a flush because a shootdown
/// skipped them (tests, diagnostics).
uint64_t lazy_tlb_flushes(CpuIndex cpu);

}  // namespace arch
