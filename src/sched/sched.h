// The scheduler: per-CPU run queues with work stealing (runqueue.h), the
// switch between threads, preemption from the timer interrupt, and the
// idle loop. This header is what the kernel wires up at boot and what the
// other sched parts (futex, timer, sync) build on; threads use thread.h.
//
// How it fits together:
//  - Each CPU has a stealable ring with a run_next slot (owner pushes,
//    anyone steals half), a FIFO of threads bound to it (never stolen;
//    other CPUs hand it theirs through a lock-free inbox), a timer queue, and
//    an idle thread. One global queue takes the rings' overflow.
//  - Every owner operation on a CPU's ring, and every switch, runs with
//    interrupts off on that CPU: that is what makes "owner" mean one
//    context at a time.
//  - A voluntary switch (yield, block, sleep, exit) is a call to
//    switch_context, which saves RBP and RSP (the call site, which the
//    compiler is told clobbers the other callee-saved registers, saves
//    those it needs); a
//    preemption is the same call made from the timer interrupt handler,
//    leaving the trap frame on the preempted thread's stack.
//  - A thread is never on two CPUs: a CPU picking a thread waits until
//    its previous CPU has left its stack (switch_context clears on_cpu only
//    after loading the new stack pointer), and every switch-in claims
//    Thread::on_cpu with an exchange that must find it free.
#pragma once

#include "src/arch/cpu_index.h"
#include "src/arch/percpu.h"
#include "src/arch/x86.h"
#include "src/base/atomic.h"
#include "src/base/types.h"
#include "src/sched/thread.h"

namespace sched {

/// The preemption quantum, the build setting --//src/sched:quantum_us.
#ifndef BISCOTTI_QUANTUM_US
#error "BISCOTTI_QUANTUM_US comes from //src/sched:quantum_us; depend on it"
#endif
inline constexpr uint64_t kQuantumNs = uint64_t{BISCOTTI_QUANTUM_US} * 1000;

/// Sets up the scheduler for `ncpu` CPUs, takes the timer interrupt (the
/// LAPIC timer's vector and the PIT's) and turns the calling boot code
/// into thread "kmain" on CPU 0 (it keeps its stack, [stack_lo, stack_hi)).
/// After the clock is calibrated and the timer chosen (src/arch/clock.h,
/// cpu_timer.h).
/// Boot CPU, interrupts off, after the heap and kva exist.
void sched_init(uint32_t ncpu, uint64_t stack_lo, uint64_t stack_hi);

/// Starts scheduling on the boot CPU: it gets an idle thread (with a stack
/// of its own) and returns to kmain. Interrupts off.
void sched_start_boot_cpu();

/// Starts scheduling on application processor `cpu`: its boot context
/// becomes its idle thread. Interrupts off.
[[noreturn]] void sched_run_ap(arch::CpuIndex cpu);

/// The timer interrupt of this CPU (after EOI): expires timers, preempts a
/// thread whose quantum is over, re-arms. Interrupt context.
void on_timer_interrupt();

/// Whether the scheduler runs on this CPU.
bool sched_running();

/// Preemption control: nests; a preemption due meanwhile happens at the
/// outermost enable. Thread context.
void preempt_disable();
void preempt_enable();

/// Per-CPU counters.
struct CpuStats {
  uint64_t switches = 0;
  uint64_t steals = 0;   // threads taken from other CPUs' rings
  uint64_t idle_ns = 0;  // halted or spinning for work
  uint64_t preemptions = 0;
  uint64_t timer_interrupts = 0;
  size_t queued = 0;          // ring + run_next + bound + inbox, now
  uint64_t wakeups_sent = 0;  // idle CPUs this CPU kicked to look for work (wakep)
  uint64_t tick_wakeps = 0;   // quantum ticks that found stealable work queued here
};
CpuStats cpu_stats(arch::CpuIndex cpu);

/// CPU `cpu`'s idling as others may read it, for the lockup watchdog:
/// whether it is halted in its idle loop now (interrupts on: never stuck),
/// and a mark that changes whenever it has halted since (its idle TSC).
/// Any context, NMI included: two relaxed loads.
struct IdleMark {
  bool halted = false;
  uint64_t idle_tsc = 0;
};
IdleMark cpu_idle_mark(arch::CpuIndex cpu);

/// The idle invariant — a thread runnable while some CPU idles is picked
/// up within a quantum — as checked at every busy CPU's tick: how often a
/// queued thread waited longer than `bound_ns` while a CPU stayed halted,
/// and the first such case. Any context.
struct IdleInvariantReport {
  uint64_t violations = 0;
  uint32_t first_idle_cpu = 0;
  uint32_t first_busy_cpu = 0;
  uint64_t first_waited_ns = 0;
  uint32_t first_spinning = 0;   // CPUs spinning for work at that moment
  uint64_t first_halted_ns = 0;  // how long the idle CPU had been halted
  uint32_t first_queued = 0;     // threads in the busy CPU's ring (run_next aside)
  uint64_t bound_ns = 0;
};
IdleInvariantReport idle_invariant_report();
uint32_t sched_cpus();

/// Whether `t` is some CPU's idle thread (whose state always reads
/// running: it is what a CPU runs when nothing else is). Any context.
bool is_idle_thread(const Thread* t);

// ---- for futex, timer and sync (sched internals) ----------------------

/// Blocks the caller until cond() is true: state kBlocked, rechecked after
/// publishing it, so a wake() between the check and the switch is never
/// lost. Spurious returns of the inner wait are absorbed by the loop.
template <typename Cond>
void block_until(Cond&& cond);

/// block_until for a caller that already passed enter_blocking and keeps
/// interrupts off (they stay off throughout): futex_wait, which checks
/// before it reads the futex word and so needs no second check here.
template <typename Cond>
void block_irqs_off_until(Cond&& cond);

/// Makes a blocked thread runnable (no-op for any other state): near the
/// waker (its CPU's run_next) unless affinity says otherwise. Any context
/// but NMI.
void wake(Thread* t);

/// wake() for a caller that has interrupts off already (futex_wake, which
/// keeps them off across its bucket lock and its wakes): it skips wake()'s
/// own save and restore of the interrupt flag.
void wake_irqs_off(Thread* t);

/// The switch of block_irqs_off_until: `me` (the caller, already published
/// kBlocked) leaves its CPU until woken. Interrupts off.
void block_switch(Thread* me);

/// Panics (naming `what`) if the caller may not block: interrupts off, a
/// SpinLock held, preemption disabled, or not a thread.
void assert_may_block(const char* what);

/// enter_blocking's report: panics with the reason the caller may not
/// block. Never returns.
[[noreturn]] void report_may_not_block(const char* what, uint64_t flags);

/// assert_may_block, then interrupts off; returns the flags for
/// arch::irq_restore. The entry of every blocking path, so inline and two
/// tests: interrupts were on, and one OR of two per-CPU words is zero — the
/// SpinLock depth (PerCpu::cli.depth) and the scheduler's gate word (zero
/// when it runs here, preemption is enabled and the caller is not the idle
/// thread; sched_cpu.h). Read with interrupts off, so that a preemption
/// cannot move us to another CPU between the two per-CPU loads.
inline uint64_t enter_blocking(const char* what) {
  uint64_t flags = arch::irq_save();
  uint32_t scratch;
  bool closed;  // the OR's zero flag, as the asm leaves it: no separate test
  asm volatile("movl %%gs:%c2, %0\n\torl %%gs:%c3, %0"
               : "=&r"(scratch), "=@ccnz"(closed)
               : "i"(__builtin_offsetof(arch::PerCpu, cli.depth)),
                 "i"(__builtin_offsetof(arch::PerCpu, sched_no_block)));
  if (__builtin_expect(closed, 0)) report_may_not_block(what, flags);
  if (__builtin_expect((flags & arch::kRflagsIf) == 0, 0)) report_may_not_block(what, flags);
  return flags;
}

template <typename Cond>
void block_irqs_off_until(Cond&& cond) {
  Thread* me = current();
  // No look before the first kBlocked: every caller comes here having just
  // found cond() false (block_until) or made it so (futex_wait queued its
  // waiter), and the look after publishing kBlocked sees it turn true all
  // the same, so one before would cost every block a load and a branch.
  do {
    me->state.store(static_cast<uint32_t>(ThreadState::kBlocked), base::MemoryOrder::kSeqCst);
    // The recheck after publishing kBlocked: a waker that changed the
    // condition before this read is seen here; one after it finds kBlocked.
    if (cond()) {
      uint32_t expected = static_cast<uint32_t>(ThreadState::kBlocked);
      if (me->state.compare_exchange(expected, static_cast<uint32_t>(ThreadState::kRunning), base::MemoryOrder::kAcqRel,
                                     base::MemoryOrder::kAcquire))
        return;
      // A wake queued us meanwhile: leave through the scheduler, which
      // will pick us up again from that queue.
    }
    block_switch(me);
  } while (!cond());
}

template <typename Cond>
void block_until(Cond&& cond) {
  if (cond()) return;
  uint64_t flags = enter_blocking("block");
  block_irqs_off_until(cond);
  arch::irq_restore(flags);
}

}  // namespace sched
