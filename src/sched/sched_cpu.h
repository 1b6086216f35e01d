// One CPU's scheduler state, shared by the scheduler's own files
// (scheduler.cc, thread.cc, timer.cc). Not for use outside src/sched.
#pragma once

#include "src/arch/clock.h"
#include "src/arch/cpu_index.h"
#include "src/arch/percpu.h"
#include "src/arch/spinlock.h"
#include "src/base/assert.h"
#include "src/base/ticket_lock.h"
#include "src/base/types.h"
#include "src/sched/halt_poll.h"
#include "src/sched/inbox.h"
#include "src/sched/owner_fifo.h"
#include "src/sched/runqueue.h"
#include "src/sched/sched.h"
#include "src/sched/timer_queue.h"

namespace sched {

inline constexpr size_t kRingSize = 256;  // Go's runq size: enough to absorb bursts, 2 KiB
using Ring = LocalRunQueue<Thread, kRingSize>;
// Threads bound to a CPU, handed to it by other CPUs (inbox.h).
using ThreadInbox = Inbox<Thread, RunQueueLink<Thread>>;
// The global queue. lock: a bare ticket lock, because every
// queue operation already runs with interrupts off (see sched.h), so
// SpinLock's push_cli bookkeeping would be paid for nothing on every switch.
using LockedQueue = GlobalRunQueue<Thread, base::TicketLock<>>;

// Threads bound to a CPU, queued by that CPU itself.
using ThreadFifo = OwnerFifo<Thread>;

struct alignas(64) CpuSched {
  constexpr CpuSched() = default;

  Ring ring;          // stealable; owner ops with interrupts off
  ThreadFifo bound;   // threads bound to this CPU, queued by this CPU (owner only)
  ThreadInbox inbox;  // threads bound to this CPU, queued by other CPUs
  Thread* idle = nullptr;
  arch::CpuIndex index;
  bool running = false;  // scheduling here: started and not offline (thieves skip it otherwise)
  // Taking the CPU offline and back (cpu_offline.h): kCpuActive, or a step
  // of the hand-shake between the controlling thread and this CPU.
  base::Atomic<uint32_t> presence{0};

  // Preemption (its disable count is in the per-CPU gate word, below).
  bool need_resched = false;
  // The thread being switched to came from run_next. True only from the
  // pick that sets it to the switch that consumes it (switch_to clears
  // it), so a pick that takes a thread from the bound FIFO need not.
  bool inherit_slice = false;
  // Decided by switch_to, acted on by finish_switch: the thread just
  // switched away from when it is this CPU's to queue (still runnable) or,
  // with finish_reaps, to free (exited detached). Null and false between
  // switches (finish_switch clears what it acts on). One slot for both, so
  // that a switch with nothing to finish, as every block, compares once.
  Thread* finish = nullptr;
  bool finish_reaps = false;
  uint64_t slice_start_tsc = 0;
  // Picks until the periodic global-queue check. Its low bit is also the
  // bound FIFO's turn when both it and the ring have work (odd: the
  // FIFO's), so that one decrement both counts and alternates: the two
  // alternate on every pick but one in kGlobalCheckPeriod (the reset).
  uint32_t global_countdown = 0;

  // Timers (timer.cc): the queue, its lock, and what the hardware is armed for.
  arch::SpinLock timer_lock;
  TimerQueue timers GUARDED_BY(timer_lock);
  uint64_t armed_ns GUARDED_BY(timer_lock) = ~uint64_t{0};
  // The hardware will interrupt within a quantum from now: armed for a
  // running thread's quantum by rearm_timer(busy) and not spent since (or
  // the PIT, which ticks anyway). Only this CPU writes it, with interrupts
  // off, and only it reads it (rearm_timer_leaving_idle).
  bool quantum_armed = false;

  // The idle-invariant check (scheduler.cc, check_idle_invariant): the ring
  // element this CPU watches, produced as number watch_index, queued no
  // later than TSC watch_tsc.
  bool watching = false;
  uint8_t watch_strikes = 0;  // checks that found the violation's condition (two make one)
  uint32_t watch_index = 0;
  uint64_t watch_tsc = 0;
  uint64_t halted_since_tsc = 0;  // TSC when this CPU last halted in idle; 0 while awake (others read)

  // Polling before halting (scheduler.cc, poll_for_handoff): 1 while this
  // CPU's idle loop polls with its idle bit set, so that a waker who clears
  // the bit or fills the inbox needs no IPI (Linux's TIF_POLLING_NRFLAG).
  base::Atomic<uint32_t> polling{0};
  HaltPoll halt_poll;             // the poll window (owner only)
  uint64_t idle_since_tsc = 0;    // start of the current idle period; 0 while running a thread
  bool polled_this_idle = false;  // one poll per idle period: interrupt-only wake-ups halt again at once

  // Statistics (this CPU writes, others read racily).
  uint64_t wakeups_sent = 0;  // idle CPUs this CPU kicked to look for work
  uint64_t tick_wakeps = 0;   // quantum ticks that found stealable work and called wakep
  uint64_t switches = 0;
  uint64_t steals = 0;
  uint64_t idle_tsc = 0;
  uint64_t preemptions = 0;
  uint64_t timer_interrupts = 0;
};

// CpuSched::presence. The controller moves active -> leaving and
// parked -> returning; the CPU itself leaving -> parked and returning ->
// active. Only an active CPU takes new threads or affinities.
inline constexpr uint32_t kCpuActive = 0;
inline constexpr uint32_t kCpuLeaving = 1;
inline constexpr uint32_t kCpuParked = 2;
inline constexpr uint32_t kCpuReturning = 3;

/// Records `t` as this CPU's running thread: the store current() reads,
/// and the heap account kmalloc charges (its reservation, or this CPU's).
inline void set_current(Thread* t) {
  asm volatile("mov %0, %%gs:%c1" ::"r"(t), "i"(__builtin_offsetof(arch::PerCpu, current_thread)) : "memory");
  // Four instructions, no branch: a switch is the hottest path there is.
  mm::HeapCharge* charge = t->heap_charge;
  asm volatile(
      "test %0, %0\n\t"
      "cmovz %%gs:%c1, %0\n\t"
      "mov %0, %%gs:%c2"
      : "+r"(charge)
      : "i"(__builtin_offsetof(arch::PerCpu, heap_cpu_charge)), "i"(__builtin_offsetof(arch::PerCpu, heap_charge))
      : "cc", "memory");
}

/// This CPU's block. Interrupts off (or otherwise pinned to the CPU). One
/// GS-relative load; volatile, because after a switch the same thread may
/// be on another CPU and must not reuse a value read before it.
inline CpuSched& this_sched() {
  CpuSched* c;
  asm volatile("mov %%gs:%c1, %0" : "=r"(c) : "i"(__builtin_offsetof(arch::PerCpu, sched)));
  return *c;
}

// The gate word arch::PerCpu::sched_no_block: zero exactly when the running
// thread may block, so that enter_blocking (sched.h) tests it with one load.
// Written by its own CPU with interrupts off.
inline constexpr uint32_t kNoBlockStopped = 1;  // the scheduler does not (yet) run on this CPU
inline constexpr uint32_t kNoBlockIdle = 2;     // this CPU runs its idle thread
inline constexpr uint32_t kNoBlockPreempt = 4;  // one preempt_disable: the count is bits 2..31
static_assert(arch::PerCpu{}.sched_no_block == kNoBlockStopped, "a CPU starts with its gate closed");

namespace internal {
// Every CPU's block and how many are in use (scheduler.cc), declared here
// only so that sched_of is inline: spawn calls it on every pinned spawn,
// where the call and its frame were 12 of a spawn+join's 806 instructions.
extern CpuSched cpu_sched[];  // arch::kMaxCpus of them
extern uint32_t cpu_sched_count;
}  // namespace internal

/// CPU `cpu`'s block; `cpu` must be below the scheduler's CPU count.
inline CpuSched& sched_of(arch::CpuIndex cpu) {
  ASSERT_MSG(cpu.value < internal::cpu_sched_count, "sched: cpu {} of {}", cpu.value, internal::cpu_sched_count);
  return internal::cpu_sched[cpu.value];
}

/// The quantum in TSC cycles (set at sched_init).
uint64_t quantum_tsc();

/// Re-arms this CPU's timer for what it needs now: its earliest timer, and
/// the end of the running thread's quantum unless it is the idle thread.
/// Interrupts off.
void rearm_timer(CpuSched& c, uint64_t now_ns, bool busy);

/// rearm_timer for a thread this CPU's idle loop is about to run, when
/// that is needed: a CPU that polled or spun rather than halting is still
/// armed for the previous thread's quantum end (at most a quantum away).
/// That tick comes early for the new quantum, and on_timer_interrupt
/// re-arms for the rest: one re-arm per quantum instead of one per
/// hand-off. Interrupts off.
inline void rearm_timer_leaving_idle(CpuSched& c) {
  if (!c.quantum_armed) rearm_timer(c, arch::nanotime(), true);
}

/// Fires every expired timer of this CPU (timer.cc). Interrupts off.
void run_expired_timers(CpuSched& c, uint64_t now_ns);

/// Switches from the running thread, which must already be queued or
/// blocked/sleeping/dead, to the next runnable one (or the idle thread).
/// Interrupts off.
void schedule_away(CpuSched& c, Thread* prev);

/// Completes a switch on the new thread's side (its stack, interrupts off):
/// queues `from` if it was switched away from still runnable (it is off
/// this CPU now), or queues it for freeing if it exited detached.
void finish_switch(Thread* from);

/// Moves every timer queued on `from` (an offline CPU's) to `to`, whose
/// hardware is then armed by its next re-arm (a kick or its tick).
/// Interrupts off.
void migrate_timers(CpuSched& from, CpuSched& to);

/// Thread descriptors and stacks (thread.cc).
bool reaps_itself(const Thread* t);  // exited detached: nobody else frees it
void queue_for_reaping(Thread* t);   // ... so queue it, once its CPU left its stack

}  // namespace sched
