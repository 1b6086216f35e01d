// The per-CPU block: one cache-line-aligned structure per CPU, reached
// through the GS base (IA32_GS_BASE, [sdm3] 3.4.4) with a self pointer at
// offset 0, so `this_cpu()` is one GS-relative load. Kernel only.
// Callable from any context once percpu_install() ran on this CPU.
#pragma once

#include "src/arch/apic_id.h"
#include "src/arch/cli_nesting.h"
#include "src/arch/cpu_index.h"
#include "src/arch/x86.h"
#include "src/base/types.h"

// The per-CPU state of the modules above arch, by type only: arch never
// looks inside, and the owners read them with one GS-relative load.
namespace sched {
struct Thread;
struct CpuSched;
}  // namespace sched
namespace mm {
struct PerCpuHeapCache;
struct HeapCharge;
}  // namespace mm

namespace prof {
struct CpuProf;
}  // namespace prof

namespace arch {

inline constexpr uint32_t kIa32GsBase = 0xc000'0101;

struct alignas(64) PerCpu {
  PerCpu* self;    // offset 0: what gs:0 loads
  CpuIndex index;  // 0 .. cpu_count-1, in MADT order, 0 = the boot CPU
  ApicId apic_id;
  sched::Thread* current_thread;    // sched's: the thread running here
  sched::CpuSched* sched;           // sched's per-CPU block
  mm::PerCpuHeapCache* heap_cache;  // mm's per-CPU heap cache (one GS-relative load in kmalloc)
  // mm's: the account kmalloc charges (the running thread's reservation, or
  // heap_cpu_charge), and this CPU's own account for allocations outside
  // any reservation. Interrupt handlers run on heap_cpu_charge.
  mm::HeapCharge* heap_charge;
  mm::HeapCharge* heap_cpu_charge;
  CliState cli;
  // sched's: zero exactly when the running thread may block (no
  // preempt_disable, the scheduler runs here, not the idle thread), so that
  // every blocking entry checks all three with one GS-relative load. Bits
  // are sched's (sched_cpu.h); nonzero from the start, so a CPU blocks only
  // once its scheduler has opened it.
  uint32_t sched_no_block = 1;
  uint64_t timer_ticks;    // LAPIC timer interrupts taken
  uint64_t ipis_received;  // test and diagnostic IPIs
  uint64_t nmis_received;
  prof::CpuProf* prof;  // prof's per-CPU block (sampler, snapshots, watchdog); null before prof_init
};
static_assert(__builtin_offsetof(PerCpu, self) == 0, "gs:0 must hold the self pointer");
// rt::this_credit reads the index as a 32-bit GS-relative load at its
// offset: the typed field must keep the layout of the uint32_t it replaced.
static_assert(sizeof(CpuIndex) == sizeof(uint32_t), "CpuIndex must be laid out as a uint32_t");
static_assert(alignof(CpuIndex) == alignof(uint32_t), "CpuIndex must be aligned as a uint32_t");
static_assert(__builtin_offsetof(PerCpu, index) == 8, "the CPU index follows the self pointer");

inline void percpu_install(PerCpu* p) {
  p->self = p;
  wrmsr(kIa32GsBase, reinterpret_cast<uint64_t>(p));
}

inline PerCpu& this_cpu() {
  PerCpu* p;
  asm volatile("mov %%gs:0, %0" : "=r"(p));
  return *p;
}

/// The interrupt flag of this CPU, as a CliNesting provider.
struct CpuIrq {
  bool enabled() const {
    uint64_t flags;
    asm volatile("pushfq; popq %0" : "=r"(flags));
    return (flags & kRflagsIf) != 0;
  }
  void disable() { cli(); }
  void enable() { sti(); }
};

inline void push_cli() {
  CpuIrq irq;
  // Disable first: this_cpu() must not change under us (no migration with
  // interrupts off).
  bool was = irq.enabled();
  irq.disable();
  note_push(this_cpu().cli, was);
}

inline void pop_cli() {
  CpuIrq irq;
  pop_cli(irq, this_cpu().cli);
}

}  // namespace arch
