// The scheduler core (see sched.h): picking, switching, waking, yielding,
// preempting and idling.
#include "src/arch/percpu.h"
#include "src/arch/smp.h"
#include "src/arch/x86.h"
#include "src/base/assert.h"
#include "src/base/atomic.h"
#include "src/sched/sched.h"
#include "src/sched/sched_cpu.h"
#include "src/sched/switch.h"

namespace sched {
namespace {

using base::MemoryOrder;

constinit CpuSched cpus_[arch::kMaxCpus];
constinit LockedQueue global_;
constinit SchedHooks hooks_;
constinit uint32_t ncpu_ = 1;
constinit uint64_t quantum_tsc_ = 0;

// Idle CPUs (halted or about to halt), one bit each: wakers find one to
// kick without a scan of all CPUs' state.
constexpr uint32_t kMaskWords = (arch::kMaxCpus + 63) / 64;
constinit base::Atomic<uint64_t> idle_mask_[kMaskWords];
// CPUs spinning in their idle loop for work (Go's spinning Ms): while one
// spins, a waker need not kick anybody.
constinit base::Atomic<uint32_t> spinning_{0};

// Go checks the global queue every 61st pick so that a busy CPU's ring
// cannot starve it (61: prime, so it does not beat with other periods).
constexpr uint32_t kGlobalCheckPeriod = 61;
// How long an idle CPU spins for work before halting; a spinning CPU takes
// new work without the IPI and wake-up a halted one needs.
constexpr uint64_t kSpinNs = 20'000;
// Go's runqsteal waits ~3 us before taking a running victim's run_next: the
// victim usually runs it itself, cache-hot, right away.
constexpr uint64_t kRunNextBackoffNs = 3'000;

Thread* cur() { return current(); }

void set_idle_bit(uint32_t cpu, bool idle) {
  uint64_t bit = uint64_t{1} << (cpu % 64);
  // Read-modify-writes are full barriers on x86 ([sdm3] 8.2.2): the bit
  // is visible before this CPU looks at the queues once more (Dekker with
  // kick_idle's fence).
  if (idle)
    idle_mask_[cpu / 64].fetch_or(bit, MemoryOrder::kSeqCst);
  else
    idle_mask_[cpu / 64].fetch_and(~bit, MemoryOrder::kSeqCst);
}

bool is_idle(uint32_t cpu) {
  return idle_mask_[cpu / 64].load(MemoryOrder::kSeqCst) & (uint64_t{1} << (cpu % 64));
}

// After queueing stealable work: make sure some CPU will look at it. The
// kicker clears the idle bit it kicks, so a burst of wake-ups kicks
// distinct CPUs rather than the same one again and again.
void kick_an_idle_cpu(uint32_t self) {
  __atomic_thread_fence(__ATOMIC_SEQ_CST);  // the push before reading the masks
  if (spinning_.load(MemoryOrder::kRelaxed) != 0) return;
  for (uint32_t w = 0; w < kMaskWords; ++w) {
    uint64_t m = idle_mask_[w].load(MemoryOrder::kRelaxed);
    if (w == self / 64) m &= ~(uint64_t{1} << (self % 64));
    while (m != 0) {
      uint64_t bit = m & -m;
      if (idle_mask_[w].fetch_and(~bit, MemoryOrder::kAcqRel) & bit) {
        hooks_.kick_cpu(w * 64 + static_cast<uint32_t>(__builtin_ctzll(bit)));
        return;
      }
      m &= ~bit;  // another kicker took that one
    }
  }
}

void kick_if_idle(uint32_t cpu) {
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  if (is_idle(cpu)) hooks_.kick_cpu(cpu);
}

// A thread bound to another CPU: into that CPU's inbox, and make sure it
// looks.
[[gnu::noinline]] void enqueue_remote(uint32_t cpu, Thread* t) {
  cpus_[cpu].inbox.push(t);
  kick_if_idle(cpu);
}

// Queues a runnable thread that is off every CPU (woken, preempted,
// yielding): `as_next` for a wake-up, the ring's tail otherwise. A thread
// bound here goes to the bound FIFO, one bound elsewhere to that CPU's
// inbox. Inline: it is on every yield's and wake's path.
[[gnu::always_inline]] inline void enqueue(CpuSched& c, Thread* t, bool as_next) {
  uint32_t aff = t->affinity.load(MemoryOrder::kRelaxed);
  if (aff == c.index) {
    c.bound.push(t);
  } else if (aff == kAnyCpu) {
    c.ring.push(t, as_next, global_);
    if (as_next) kick_an_idle_cpu(c.index);
  } else {
    enqueue_remote(aff, t);
  }
}

struct RunNextBackoff {
  void operator()() const {
    uint64_t until = hooks_.nanotime() + kRunNextBackoffNs;
    while (hooks_.nanotime() < until) arch::cpu_relax();
  }
};

// Takes half of some other CPU's ring. Starts at a different victim each
// time so that thieves spread out; O(CPUs), never O(threads).
Thread* steal(CpuSched& c, bool take_run_next) {
  if (ncpu_ == 1) return nullptr;
  uint32_t start = static_cast<uint32_t>(arch::rdtsc()) % ncpu_;
  for (uint32_t k = 0; k < ncpu_; ++k) {
    uint32_t v = (start + k) % ncpu_;
    if (v == c.index || !cpus_[v].running) continue;
    Thread* t = take_run_next ? steal_into(cpus_[v].ring, &c.ring, StealRunNext::kYes, RunNextBackoff{})
                              : steal_into(cpus_[v].ring, &c.ring);
    if (t != nullptr) {
      ++c.steals;
      return t;
    }
  }
  return nullptr;
}

// A thread found bound to another CPU (its affinity changed while queued)
// is forwarded there.
void forward(Thread* t, uint32_t aff) {
  cpus_[aff].inbox.push(t);
  kick_if_idle(aff);
}

// The next thread for this CPU, or null: the whole decision (pick below is
// its inline common case).
[[gnu::noinline]] Thread* pick_slow(CpuSched& c, bool may_steal) {
  // Threads other CPUs bound to us: into our own FIFO (rare; a hint read).
  if (!c.inbox.empty())
    while (Thread* t = c.inbox.pop()) c.bound.push(t);
  for (;;) {
    Thread* t = nullptr;
    c.inherit_slice = false;
    if (c.global_countdown-- == 0) {
      c.global_countdown = kGlobalCheckPeriod - 1;
      t = global_.pop();
    }
    if (t == nullptr && !c.bound.empty() && (c.bound_turn || c.ring.empty())) t = c.bound.pop();
    c.bound_turn = !c.bound_turn;
    if (t == nullptr) {
      c.inherit_slice = c.ring.has_run_next();
      t = c.ring.pop();
      if (t == nullptr) c.inherit_slice = false;
    }
    if (t == nullptr) t = c.bound.pop();
    if (t == nullptr) t = global_.pop_batch_into(c.ring);
    if (t == nullptr && may_steal) t = steal(c, false);
    if (t == nullptr) return nullptr;
    uint32_t aff = t->affinity.load(MemoryOrder::kRelaxed);
    if (aff == kAnyCpu || aff == c.index) return t;
    forward(t, aff);
  }
}

// pick_slow's common case, inline on every switch path: the inbox is
// empty, no global-queue check is due, and the bound FIFO or the ring
// (run_next first) has a thread that may run here. It makes the same
// choice pick_slow would, and leaves everything else to it.
[[gnu::always_inline]] inline Thread* pick(CpuSched& c, bool may_steal) {
  if (c.inbox.empty() && c.global_countdown != 0) {
    Thread* t;
    bool inherit = false;
    if (!c.bound.empty() && (c.bound_turn || c.ring.empty())) {
      t = c.bound.pop();
    } else {
      inherit = c.ring.has_run_next();
      t = c.ring.pop();  // null only if thieves emptied it meanwhile
    }
    if (t != nullptr) {
      --c.global_countdown;
      c.bound_turn = !c.bound_turn;
      uint32_t aff = t->affinity.load(MemoryOrder::kRelaxed);
      if (aff == c.index || aff == kAnyCpu) [[likely]] {
        c.inherit_slice = inherit;
        return t;
      }
      forward(t, aff);
    }
  }
  return pick_slow(c, may_steal);
}

bool has_local_work(CpuSched& c) {
  return !c.ring.empty() || !c.bound.empty() || !c.inbox.empty() || !global_.empty();
}

[[noreturn, gnu::cold, gnu::noinline]] void report_claimed(const CpuSched& c, const Thread* t, uint32_t claimed) {
  PANIC("sched: cpu {} picked thread '{}' while cpu {} has it (running, or not yet off its stack)", c.index,
        t->name, claimed - 1);
}

// The outgoing thread's side of a switch, decided in switch_to.
enum SwitchFlags : uint32_t {
  kRequeuePrev = 1,    // prev is still runnable: finish_switch queues it
  kPrevMayDie = 2,     // prev may have exited detached: finish_switch frees it
  kIdleMayChange = 4,  // prev or next may be this CPU's idle thread
};

// The incoming thread's side, inline on the switch paths (finish_switch is
// the same for the other resumption points). Compares `from` with what
// switch_to recorded; never reads it unless it is ours to queue or reap.
[[gnu::always_inline]] inline void finish_switch_inline(Thread* from) {
  CpuSched& c = this_sched();
  if (c.requeue == from) {
    c.requeue = nullptr;
    enqueue(c, from, false);
  } else if (c.reap == from) [[unlikely]] {
    c.reap = nullptr;
    queue_for_reaping(from);
  }
}

// The switch itself. Interrupts off; `prev` is this CPU's running thread,
// blocked, sleeping or dead — or, with kRequeuePrev, still runnable, and
// then queued by finish_switch only once this CPU has left its stack.
// Inline, with `kFlags` known at each call site, so that each path pays
// only for its own case.
template <uint32_t kFlags>
[[gnu::always_inline]] inline void switch_to(CpuSched& c, Thread* prev, Thread* next) {
  // By construction a queued thread is off every CPU: wakers wait for
  // on_cpu == 0 before queueing (wake_from), and a yielding or preempted
  // thread is queued after the switch. Two CPUs on one stack would be
  // silent corruption, so check it always: one exchange, which also
  // catches two CPUs picking the thread at once.
  const uint32_t cpu = c.index;
  uint32_t claimed = next->on_cpu.exchange(cpu + 1, MemoryOrder::kAcqRel);
  if (claimed != 0) [[unlikely]] report_claimed(c, next, claimed);

  uint64_t now = arch::rdtsc();  // the one clock read of a switch
  prev->run_tsc += now - prev->switched_in_tsc;
  next->switched_in_tsc = now;
  next->last_cpu = cpu;
  if constexpr ((kFlags & kIdleMayChange) != 0) {
    uint32_t& gate = arch::this_cpu().sched_no_block;
    gate = (gate & ~kNoBlockIdle) | (next == c.idle ? kNoBlockIdle : 0);
    if (next != c.idle) next->state.store(static_cast<uint32_t>(ThreadState::kRunning), MemoryOrder::kRelaxed);
  } else {
    next->state.store(static_cast<uint32_t>(ThreadState::kRunning), MemoryOrder::kRelaxed);
  }
  if (!c.inherit_slice) c.slice_start_tsc = now;
  ++c.switches;
  if constexpr ((kFlags & kRequeuePrev) != 0) c.requeue = prev;
  // Decided now, while prev is surely ours: once switch_context clears its
  // on_cpu, a joiner may free it and a spawn reuse the descriptor, so
  // finish_switch must not read it to find out.
  if constexpr ((kFlags & kPrevMayDie) != 0)
    c.reap = prev->get_state() == ThreadState::kDead && reaps_itself(prev) ? prev : nullptr;
  set_current(next);

  Thread* from = switch_context(prev, next);
  // Back in `prev`, possibly on another CPU; `from` is what this CPU ran.
  finish_switch_inline(from);
}

[[noreturn]] void idle_loop(CpuSched& c) {
  for (;;) {
    arch::cli();
    Thread* next = pick(c, true);
    if (next == nullptr) {
      // Spin a little for work (bounded: at most half the CPUs spin), with
      // interrupts on so that timers and IPIs are taken meanwhile.
      uint32_t n = spinning_.load(MemoryOrder::kRelaxed);
      if (2 * n < ncpu_ && spinning_.compare_exchange(n, n + 1, MemoryOrder::kAcqRel, MemoryOrder::kRelaxed)) {
        uint64_t t0 = arch::rdtsc();
        arch::sti();
        uint64_t until = hooks_.nanotime() + kSpinNs;
        while (hooks_.nanotime() < until && next == nullptr) {
          arch::cpu_relax();
          arch::cli();
          next = pick(c, true);
          arch::sti();
          if (next != nullptr) break;
        }
        arch::cli();
        spinning_.fetch_sub(1, MemoryOrder::kRelease);
        c.idle_tsc += arch::rdtsc() - t0;
        // Last look, including a running victim's run_next after Go's
        // back-off: we are about to halt, so waiting 3 us costs nothing.
        if (next == nullptr) next = steal(c, true);
        if (next != nullptr) ++c.steals;
      }
    }
    if (next != nullptr) {
      // Go's chain of wake-ups: leaving idle with more work queued here
      // (a steal brings half a ring), get another idle CPU to look.
      if (!c.ring.empty()) kick_an_idle_cpu(c.index);
      rearm_timer(c, hooks_.nanotime(), true);
      switch_to<kIdleMayChange>(c, c.idle, next);
      continue;
    }
    set_idle_bit(c.index, true);
    // One more look now that wakers can see the bit: anything queued
    // before it was visible is found here, anything after gets a kick.
    bool stealable = false;
    for (uint32_t v = 0; v < ncpu_ && !stealable; ++v) {
      const Ring& r = cpus_[v].ring;
      stealable = v != c.index && r.size() > (r.has_run_next() ? 1u : 0u);
    }
    if (has_local_work(c) || stealable) {
      set_idle_bit(c.index, false);
      arch::cpu_relax();
      continue;
    }
    // Tickless: only a pending timer of this CPU arms the hardware.
    rearm_timer(c, hooks_.nanotime(), false);
    uint64_t t0 = arch::rdtsc();
    // STI's one-instruction shadow ([sdm3] 6.8.3) makes "sti; hlt" atomic
    // with respect to the checks above: a kick after them ends the HLT.
    // (HLT rather than MWAIT: QEMU's TCG treats MWAIT as a PAUSE when it
    // has more than one CPU, so an MWAIT idle could not be tested here.)
    asm volatile("sti; hlt" ::: "memory");
    arch::cli();
    c.idle_tsc += arch::rdtsc() - t0;
    set_idle_bit(c.index, false);
  }
}

void idle_thread_fn(void*) {
  // Spawned for CPU 0 and started by its first switch; never returns.
  arch::cli();
  idle_loop(this_sched());
}

}  // namespace

CpuSched& sched_of(uint32_t cpu) {
  ASSERT_MSG(cpu < ncpu_, "sched: cpu {} of {}", cpu, ncpu_);
  return cpus_[cpu];
}

const SchedHooks& hooks() { return hooks_; }
uint64_t quantum_tsc() { return quantum_tsc_; }
uint32_t sched_cpus() { return ncpu_; }

bool sched_running() {
  void* s = arch::this_cpu().sched;
  return s != nullptr && static_cast<CpuSched*>(s)->running;
}

Thread* adopt_boot_thread(const char* name, uint64_t stack_lo, uint64_t stack_hi);  // thread.cc
Thread* make_idle_thread(uint32_t cpu, ThreadFn fn);                                 // thread.cc
Thread* adopt_idle_context(uint32_t cpu);                                            // thread.cc

void sched_init(const SchedHooks& h, uint32_t ncpu, uint64_t stack_lo, uint64_t stack_hi) {
  ASSERT_MSG(h.kick_cpu != nullptr && h.nanotime != nullptr && h.tsc_to_ns != nullptr, "sched: hooks incomplete");
  ASSERT_MSG(ncpu >= 1 && ncpu <= arch::kMaxCpus, "sched: {} CPUs", ncpu);
  hooks_ = h;
  ncpu_ = ncpu;
  ASSERT_MSG(h.tsc_hz != 0, "sched: no TSC rate");
  quantum_tsc_ = kQuantumNs * h.tsc_hz / 1'000'000'000;
  global_.set_ncpu(ncpu);
  for (uint32_t i = 0; i < ncpu; ++i) cpus_[i].index = i;
  arch::this_cpu().sched = &cpus_[0];
  Thread* t = adopt_boot_thread("kmain", stack_lo, stack_hi);
  t->on_cpu.store(1 + 0, MemoryOrder::kRelaxed);  // claimed by CPU 0
  t->switched_in_tsc = arch::rdtsc();
  arch::this_cpu().current_thread = t;
}

void sched_start_boot_cpu() {
  CpuSched& c = cpus_[0];
  constexpr uint32_t cpu = 0;
  c.idle = make_idle_thread(cpu, idle_thread_fn);
  c.slice_start_tsc = arch::rdtsc();
  c.running = true;
  arch::this_cpu().sched_no_block &= ~kNoBlockStopped;  // kmain runs: it may block now
  rearm_timer(c, hooks_.nanotime(), true);
}

void sched_run_ap(uint32_t cpu) {
  CpuSched& c = cpus_[cpu];
  arch::this_cpu().sched = &c;
  c.idle = adopt_idle_context(cpu);
  c.idle->on_cpu.store(1 + cpu, MemoryOrder::kRelaxed);
  c.idle->switched_in_tsc = arch::rdtsc();
  arch::this_cpu().current_thread = c.idle;
  c.running = true;
  uint32_t& gate = arch::this_cpu().sched_no_block;
  gate = (gate & ~kNoBlockStopped) | kNoBlockIdle;
  idle_loop(c);
}

void schedule_away(CpuSched& c, Thread* prev) {
  Thread* next = pick(c, false);
  if (next == nullptr) next = c.idle;
  switch_to<kPrevMayDie | kIdleMayChange>(c, prev, next);
}

void finish_switch(Thread* from) { finish_switch_inline(from); }

void assert_may_block(const char* what) { arch::irq_restore(enter_blocking(what)); }

void report_may_not_block(const char* what, uint64_t flags) {
  // In the order of the most useful message: a SpinLock holder has
  // interrupts off too, and the SpinLock is the better report.
  uint32_t spinlocks = arch::this_cpu().cli.depth;
  ASSERT_MSG(spinlocks == 0, "{}: would sleep holding a SpinLock", what);
  ASSERT_MSG(flags & (uint64_t{1} << 9), "{}: would sleep with interrupts off", what);
  uint32_t gate = arch::this_cpu().sched_no_block;
  ASSERT_MSG((gate & kNoBlockStopped) == 0 && sched_running(), "{}: the scheduler is not running on this CPU", what);
  ASSERT_MSG(gate < kNoBlockPreempt, "{}: would sleep with preemption disabled", what);
  ASSERT_MSG((gate & kNoBlockIdle) == 0, "{}: the idle thread cannot block", what);
  PANIC("{}: may not block, but no reason found (gate {:#x})", what, gate);
}

namespace {

// Nothing else runnable here and the caller must leave: to the idle thread.
[[gnu::noinline]] void switch_to_idle(CpuSched& c, Thread* prev, bool requeue) {
  if (requeue)
    switch_to<kRequeuePrev | kIdleMayChange>(c, prev, c.idle);
  else
    switch_to<kIdleMayChange>(c, prev, c.idle);
}

}  // namespace

void block_switch(Thread* me) {
  CpuSched& c = this_sched();
  ++me->voluntary;
  Thread* next = pick(c, false);
  if (next == nullptr) {
    switch_to_idle(c, me, false);
    return;
  }
  switch_to<0>(c, me, next);
}

namespace {

// `from` -> kRunnable, then queue it near the waker. The thread may still
// be switching away on its CPU (it published kBlocked or kSleeping with
// interrupts off, just before its switch): wait until that CPU has left
// its stack, so no queue ever holds a thread that is on a CPU. The wait is
// a few dozen instructions, and cannot be circular: the switching CPU
// waits for nobody (Linux's try_to_wake_up waits on p->on_cpu the same way).
[[gnu::always_inline]] inline void wake_from(Thread* t, ThreadState from) {
  uint32_t expected = static_cast<uint32_t>(from);
  if (!t->state.compare_exchange(expected, static_cast<uint32_t>(ThreadState::kRunnable), MemoryOrder::kAcqRel,
                                 MemoryOrder::kRelaxed))
    return;
  while (t->on_cpu.load(MemoryOrder::kAcquire) != 0) arch::cpu_relax();
  uint64_t flags = arch::irq_save();
  enqueue(this_sched(), t, true);
  arch::irq_restore(flags);
}

}  // namespace

void wake(Thread* t) { wake_from(t, ThreadState::kBlocked); }

// Sleep's wake-up (timer.cc): same as wake() for a sleeping thread.
void wake_sleeper(Thread* t) { wake_from(t, ThreadState::kSleeping); }

void make_runnable_new(Thread* t) {
  uint64_t flags = arch::irq_save();
  CpuSched& c = this_sched();
  uint32_t aff = t->affinity.load(MemoryOrder::kRelaxed);
  if (aff == kAnyCpu) {
    c.ring.push(t, false, global_);
    kick_an_idle_cpu(c.index);
  } else {
    enqueue(c, t, false);
  }
  arch::irq_restore(flags);
}

void yield() {
  (void)enter_blocking("yield");
  CpuSched& c = this_sched();
  Thread* me = cur();
  Thread* next = pick(c, false);
  if (next == nullptr) [[unlikely]] {
    // Nobody else to run: stay, unless our affinity now says elsewhere.
    uint32_t aff = me->affinity.load(MemoryOrder::kRelaxed);
    if (aff != kAnyCpu && aff != c.index) {
      me->state.store(static_cast<uint32_t>(ThreadState::kRunnable), MemoryOrder::kRelaxed);
      ++me->voluntary;
      switch_to_idle(c, me, true);
    }
  } else {
    me->state.store(static_cast<uint32_t>(ThreadState::kRunnable), MemoryOrder::kRelaxed);
    ++me->voluntary;
    switch_to<kRequeuePrev>(c, me, next);
  }
  // enter_blocking found interrupts on (else it panicked): restore them.
  arch::sti();
}

void on_timer_interrupt() {
  if (!sched_running()) return;
  CpuSched& c = this_sched();
  ++c.timer_interrupts;
  uint64_t now = hooks_.nanotime();
  run_expired_timers(c, now);
  Thread* me = cur();
  if (me == c.idle) return;  // the idle loop re-arms before it halts again
  // A little slack: the one-shot count is rounded, so the interrupt for the
  // end of a quantum may come a hair early.
  uint64_t now_tsc = arch::rdtsc();
  bool expired = now_tsc - c.slice_start_tsc + quantum_tsc_ / 16 >= quantum_tsc_;
  if (expired && arch::this_cpu().sched_no_block >= kNoBlockPreempt) {
    c.need_resched = true;
    expired = false;
  }
  if (expired) {
    Thread* next = pick(c, false);
    if (next != nullptr) {
      ++c.preemptions;
      ++me->involuntary;
      me->state.store(static_cast<uint32_t>(ThreadState::kRunnable), MemoryOrder::kRelaxed);
      c.inherit_slice = false;
      rearm_timer(c, now, true);  // for `next`'s quantum, which starts now
      switch_to<kRequeuePrev>(c, me, next);
      return;
    }
    c.slice_start_tsc = now_tsc;  // nobody else wants the CPU: a fresh quantum
  }
  rearm_timer(c, now, true);
}

void preempt_disable() {
  uint64_t flags = arch::irq_save();
  arch::this_cpu().sched_no_block += kNoBlockPreempt;
  arch::irq_restore(flags);
}

void preempt_enable() {
  uint64_t flags = arch::irq_save();
  CpuSched& c = this_sched();
  uint32_t& gate = arch::this_cpu().sched_no_block;
  ASSERT_MSG(gate >= kNoBlockPreempt, "preempt_enable without preempt_disable");
  gate -= kNoBlockPreempt;
  bool now = gate < kNoBlockPreempt && (gate & kNoBlockStopped) == 0 && c.need_resched &&
             arch::this_cpu().cli.depth == 0 && (flags & (1u << 9));
  if (now) c.need_resched = false;
  arch::irq_restore(flags);
  if (now) yield();
}

CpuStats cpu_stats(uint32_t cpu) {
  const CpuSched& c = sched_of(cpu);
  CpuStats s;
  s.switches = __atomic_load_n(&c.switches, __ATOMIC_RELAXED);
  s.steals = __atomic_load_n(&c.steals, __ATOMIC_RELAXED);
  s.idle_ns = hooks_.tsc_to_ns(__atomic_load_n(&c.idle_tsc, __ATOMIC_RELAXED));
  s.preemptions = __atomic_load_n(&c.preemptions, __ATOMIC_RELAXED);
  s.timer_interrupts = __atomic_load_n(&c.timer_interrupts, __ATOMIC_RELAXED);
  s.queued = c.ring.size() + c.bound.size() + c.inbox.size();
  return s;
}

}  // namespace sched
