// The scheduler core (see sched.h): picking, switching, waking, yielding,
// preempting and idling.
#include "src/arch/clock.h"
#include "src/arch/cpu_timer.h"
#include "src/arch/ipi.h"
#include "src/arch/lazy_tlb.h"
#include "src/arch/local_apic.h"
#include "src/arch/percpu.h"
#include "src/arch/smp.h"
#include "src/arch/trap.h"
#include "src/arch/vectors.h"
#include "src/arch/x86.h"
#include "src/base/assert.h"
#include "src/base/atomic.h"
#include "src/mm/kmalloc.h"
#include "src/mm/page_alloc.h"
#include "src/sched/sched.h"
#include "src/sched/sched_cpu.h"
#include "src/sched/switch.h"

namespace sched {

namespace internal {
constinit CpuSched cpu_sched[arch::kMaxCpus];
constinit uint32_t cpu_sched_count = 1;
}  // namespace internal

namespace {

using base::MemoryOrder;

// The CPU count's old name in this file (sched_cpu.h says why the storage
// is in internal::).
constinit uint32_t& ncpu_ = internal::cpu_sched_count;
constinit LockedQueue global_;
constinit uint64_t quantum_tsc_ = 0;

// Waking idle CPUs: Go's wakep/resetspinning protocol, restated for this
// kernel. The invariant it keeps: while some CPU is idle and stealable work
// is queued, at least one CPU is *spinning* — awake in its idle loop and
// looking for work — or has been kicked and will be.
//  - spinning_ counts the CPUs that are looking, including a kicked CPU
//    still on its way out of HLT: the kicker adds its count for it.
//  - Whoever queues stealable work calls wakep(): if nobody spins and some
//    CPU idles, it claims spinning_ 0 -> 1 and kicks one idle CPU, which
//    wakes up owning that count. One looker at a time is enough: if it finds
//    work it wakes the next (below), so a burst wakes CPUs one by one.
//  - A spinner that finds work stops spinning and, if it was the last one,
//    calls wakep() for whatever else is queued (a steal takes only half a
//    ring; the rest still needs a looker). Without this step, work queued
//    while a spinner existed (whose queuer therefore kicked nobody) was
//    stranded once that spinner found other work: the CPUs halted for good
//    at 16+ CPUs, because nothing but new work ever kicks a tickless CPU.
//  - A spinner that finds nothing stops spinning, then looks at every queue
//    once more (Dekker with the queuer: decrement, then look; push, then
//    look at spinning_), and spins again if something is there.
//  - A CPU about to halt sets its idle bit, then looks once more (Dekker
//    with wakep: set, then look; push, then read the bits).
//  - The remote `empty()`/`size()` hints can be spuriously empty while their
//    owner pushes; every decision to halt is taken after a full barrier
//    that pairs with the pusher's, so the pusher either sees the idle bit or
//    the halter sees the push.
//  - An idle CPU polls before it halts, for a window that adapts to how
//    soon its hand-offs come (halt_poll.h), with its idle bit set and
//    `polling` raised: a waker that clears the bit or fills its inbox then
//    needs no IPI, as Linux skips the IPI to a CPU whose idle loop has
//    TIF_POLLING_NRFLAG set. Dekker again: the waker stores, then reads
//    `polling`; the poller clears `polling` (a locked exchange), then
//    looks once more before it halts.
//  - Belt and braces, as Go's sysmon: every quantum tick of a busy CPU that
//    has stealable work queued calls wakep() too, so no miss can strand
//    work for longer than a quantum.
// Idle CPUs (halted or about to halt), one bit each: wakers find one to
// kick without a scan of all CPUs' state.
constexpr uint32_t kMaskWords = (arch::kMaxCpus + 63) / 64;
// Plain words under __atomic builtins, so that clear_idle_bit can use a
// locked BTR.
constinit uint64_t idle_mask_[kMaskWords];
constinit base::Atomic<uint32_t> spinning_{0};

// Go checks the global queue every 61st pick so that a busy CPU's ring
// cannot starve it (61: prime, so it does not beat with other periods).
constexpr uint32_t kGlobalCheckPeriod = 61;
// How long an idle CPU spins for work before halting; a spinning CPU takes
// new work without the IPI and wake-up a halted one needs.
constexpr uint64_t kSpinNs = 20'000;
constinit uint64_t spin_tsc_ = 0;  // kSpinNs in TSC cycles (sched_init)
// The halt-poll window's bounds (halt_poll.h): Linux's guest halt-polling
// defaults, capped at half a quantum so that an idle CPU still halts
// within one quantum on a build with a short quantum.
constexpr uint64_t kPollMaxNs = kQuantumNs / 2 < 200'000 ? kQuantumNs / 2 : 200'000;
constexpr uint64_t kPollGrowStartNs = kPollMaxNs / 4;
// Go's runqsteal waits ~3 us before taking a running victim's run_next: the
// victim usually runs it itself, cache-hot, right away.
constexpr uint64_t kRunNextBackoffNs = 3'000;

Thread* cur() { return current(); }

void set_idle_bit(arch::CpuIndex index) {
  const uint32_t cpu = index.value;
  // Read-modify-writes are full barriers on x86 ([sdm3] 8.2.2): the bit
  // is visible before this CPU looks at the queues once more (Dekker with
  // wakep's fence).
  __atomic_fetch_or(&idle_mask_[cpu / 64], uint64_t{1} << (cpu % 64), __ATOMIC_SEQ_CST);
}

// Clears this CPU's idle bit; false if a kicker cleared it first, which
// hands this CPU the spinning count the kicker took for it.
// One locked BTR (a full barrier, [sdm3] 8.2.2), where fetch_and with its
// old value is a compare-and-swap loop.
bool clear_idle_bit(arch::CpuIndex index) {
  const uint32_t cpu = index.value;
  bool was_set;
  asm volatile("lock btrq %2, %0" : "+m"(idle_mask_[cpu / 64]), "=@ccc"(was_set) : "r"(uint64_t{cpu % 64}) : "memory");
  return was_set;
}

bool is_idle(arch::CpuIndex index) {
  const uint32_t cpu = index.value;
  return __atomic_load_n(&idle_mask_[cpu / 64], __ATOMIC_SEQ_CST) & (uint64_t{1} << (cpu % 64));
}

bool any_idle_but(arch::CpuIndex index) {
  const uint32_t self = index.value;
  for (uint32_t w = 0; w < kMaskWords; ++w) {
    uint64_t m = __atomic_load_n(&idle_mask_[w], __ATOMIC_RELAXED);
    if (w == self / 64) m &= ~(uint64_t{1} << (self % 64));
    if (m != 0) return true;
  }
  return false;
}

// Ends `cpu`'s idling once the caller has made work visible to it (filled
// its inbox or cleared its idle bit, then a full barrier): the reschedule
// IPI, unless it polls (poll_for_handoff) and so sees the store itself.
void kick(arch::CpuIndex cpu) {
  if (internal::cpu_sched[cpu.value].polling.load(MemoryOrder::kRelaxed) == 0) arch::kick_cpu(cpu);
}

// Clears one idle CPU's bit and kicks it; false if none is idle. The
// kicked CPU finds its bit gone and so knows it owns a spinning count.
bool kick_one_idle(arch::CpuIndex index) {
  const uint32_t self = index.value;
  for (uint32_t w = 0; w < kMaskWords; ++w) {
    uint64_t m = __atomic_load_n(&idle_mask_[w], __ATOMIC_RELAXED);
    if (w == self / 64) m &= ~(uint64_t{1} << (self % 64));
    while (m != 0) {
      uint64_t bit = m & -m;
      // A full barrier before kick() reads `polling` (Dekker with the poller).
      if (__atomic_fetch_and(&idle_mask_[w], ~bit, __ATOMIC_SEQ_CST) & bit) {
        ++internal::cpu_sched[self].wakeups_sent;
        kick(arch::CpuIndex(w * 64 + static_cast<uint32_t>(__builtin_ctzll(bit))));
        return true;
      }
      m &= ~bit;  // it left idle, or another kicker took it
    }
  }
  return false;
}

// After queueing stealable work: make sure some CPU will look at it (the
// protocol above).
void wakep(arch::CpuIndex self) {
  __atomic_thread_fence(__ATOMIC_SEQ_CST);  // the push before reading spinning_ and the bits
  for (;;) {
    if (spinning_.load(MemoryOrder::kRelaxed) != 0 || !any_idle_but(self)) return;
    uint32_t zero = 0;
    if (!spinning_.compare_exchange(zero, 1, MemoryOrder::kAcqRel, MemoryOrder::kRelaxed)) return;
    if (kick_one_idle(self)) return;
    // Every idle CPU left idle meanwhile: give the count back. A queuer that
    // saw it and kicked nobody is covered by a CPU that went idle since
    // (it looks after setting its bit) — or by the bit the next pass sees.
    spinning_.fetch_sub(1, MemoryOrder::kSeqCst);
  }
}

// After queueing into `cpu`'s inbox. A CPU that is not active is kicked
// too: one leaving or parked hands whatever reaches its inbox on to the
// global queue (park below), and must wake to do so.
void kick_if_idle(arch::CpuIndex cpu) {
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  if (internal::cpu_sched[cpu.value].presence.load(MemoryOrder::kRelaxed) != kCpuActive)
    arch::kick_cpu(cpu);
  else if (is_idle(cpu))
    kick(cpu);
}

// A thread bound to another CPU: into that CPU's inbox, and make sure it
// looks.
[[gnu::noinline]] void enqueue_remote(arch::CpuIndex cpu, Thread* t) {
  internal::cpu_sched[cpu.value].inbox.push(t);
  kick_if_idle(cpu);
}

// Queues a runnable thread that is off every CPU (woken, preempted,
// yielding): `as_next` for a wake-up, the ring's tail otherwise. A thread
// bound here goes to the bound FIFO, one bound elsewhere to that CPU's
// inbox. Inline: it is on every yield's and wake's path.
[[gnu::always_inline]] inline void enqueue(CpuSched& c, Thread* t, bool as_next) {
  const Affinity aff = t->affinity.load(MemoryOrder::kRelaxed);
  if (aff == Affinity::only(c.index)) {
    c.bound.push(t);
  } else if (aff.is_any()) {
    c.ring.push(t, as_next, global_);
    wakep(c.index);
  } else {
    enqueue_remote(aff.cpu(), t);
  }
}

// enqueue() for a thread bound nowhere: apart, so that a wake of one
// bound to a CPU (every pinned hand-off) runs in a frame that saves no
// registers; wake_irqs_off calls it last, as a tail call.
[[gnu::noinline]] void enqueue_unbound(CpuSched& c, Thread* t, bool as_next) {
  c.ring.push(t, as_next, global_);
  wakep(c.index);
}

struct RunNextBackoff {
  void operator()() const {
    uint64_t until = arch::nanotime() + kRunNextBackoffNs;
    while (arch::nanotime() < until) arch::cpu_relax();
  }
};

// Takes half of some other CPU's ring. Starts at a different victim each
// time so that thieves spread out; O(CPUs), never O(threads).
Thread* steal(CpuSched& c, bool take_run_next) {
  if (ncpu_ == 1) return nullptr;
  uint32_t start = static_cast<uint32_t>(arch::rdtsc()) % ncpu_;
  for (uint32_t k = 0; k < ncpu_; ++k) {
    uint32_t v = (start + k) % ncpu_;
    if (v == c.index.value || !internal::cpu_sched[v].running) continue;
    Thread* t = take_run_next ? steal_into(internal::cpu_sched[v].ring, &c.ring, StealRunNext::kYes, RunNextBackoff{})
                              : steal_into(internal::cpu_sched[v].ring, &c.ring);
    if (t != nullptr) {
      ++c.steals;
      return t;
    }
  }
  return nullptr;
}

// A thread found bound to another CPU (its affinity changed while queued)
// is forwarded there.
void forward(Thread* t, Affinity aff) {
  internal::cpu_sched[aff.cpu().value].inbox.push(t);
  kick_if_idle(aff.cpu());
}

// The inbox first: an idle CPU polling or spinning finds its hand-offs there.
bool has_local_work(CpuSched& c) { return !c.inbox.empty() || !c.bound.empty() || !c.ring.empty() || !global_.empty(); }

// The next thread for this CPU, or null: the whole decision (pick below is
// its inline common case).
[[gnu::noinline]] Thread* pick_slow(CpuSched& c, bool may_steal) {
  // Leaving (cpu_offline.h): nothing more runs here. The countdown stays 0
  // so that pick's inline path keeps coming here, and costs nothing more.
  if (c.presence.load(MemoryOrder::kRelaxed) != kCpuActive) [[unlikely]] {
    c.global_countdown = 0;
    return nullptr;
  }
  // Threads other CPUs bound to us: into our own FIFO (rare; a hint read).
  if (!c.inbox.empty()) c.inbox.take_all([&](Thread* t) { c.bound.push(t); });
  for (;;) {
    Thread* t = nullptr;
    c.inherit_slice = false;
    if (c.global_countdown-- == 0) {
      c.global_countdown = kGlobalCheckPeriod - 1;
      t = global_.pop();
    }
    // The countdown's low bit is the bound FIFO's turn (see CpuSched).
    if (t == nullptr && !c.bound.empty() && ((c.global_countdown & 1) != 0 || c.ring.empty())) t = c.bound.pop();
    if (t == nullptr) {
      c.inherit_slice = c.ring.has_run_next();
      t = c.ring.pop();
      if (t == nullptr) c.inherit_slice = false;
    }
    if (t == nullptr) t = c.bound.pop();
    if (t == nullptr) t = global_.pop_batch_into(c.ring);
    if (t == nullptr && may_steal) t = steal(c, false);
    if (t == nullptr) return nullptr;
    const Affinity aff = t->affinity.load(MemoryOrder::kRelaxed);
    if (aff.allows(c.index)) return t;
    forward(t, aff);
  }
}

// Whether pick's inline path takes the bound FIFO's head, given an empty
// inbox and `countdown` (the global-queue countdown) not zero: the FIFO
// has a thread, and it is its turn or the ring is empty. yield's rotate
// asks the same question.
[[gnu::always_inline]] inline bool bound_fifo_turn(const CpuSched& c, uint32_t countdown) {
  return !c.bound.empty() && ((countdown & 1) != 0 || c.ring.empty());
}

// pick_slow's common case, inline on every switch path: the inbox is
// empty, no global-queue check is due, and the bound FIFO or the ring
// (run_next first) has a thread that may run here. It makes the same
// choice pick_slow would, and leaves everything else to it.
[[gnu::always_inline]] inline Thread* pick(CpuSched& c, bool may_steal) {
  const uint32_t countdown = c.global_countdown;
  if (c.inbox.empty() && countdown != 0) {
    // Two branches rather than one shared tail, so that each tests the
    // affinity its queue usually holds first: a thread in the bound FIFO
    // is bound here (unless set_affinity moved it meanwhile), one in the
    // ring is bound nowhere. Both, with the one decrement that also flips
    // the bound FIFO's turn, are on every switch of a pinned hand-off.
    if (bound_fifo_turn(c, countdown)) {
      Thread* t = c.bound.pop_nonempty();
      c.global_countdown = countdown - 1;
      const Affinity aff = t->affinity.load(MemoryOrder::kRelaxed);
      // allows(), with the bound FIFO's usual case tested first.
      if (aff == Affinity::only(c.index)) [[likely]]
        return t;  // inherit_slice is false already (see CpuSched)
      if (aff.is_any()) return t;
      forward(t, aff);
    } else {
      bool inherit = c.ring.has_run_next();
      Thread* t = c.ring.pop();  // null only if thieves emptied it meanwhile
      if (t != nullptr) {
        c.global_countdown = countdown - 1;
        const Affinity aff = t->affinity.load(MemoryOrder::kRelaxed);
        if (aff.allows(c.index)) [[likely]] {
          c.inherit_slice = inherit;
          return t;
        }
        forward(t, aff);
      }
    }
  }
  // Nothing queued here and no stealing: the common case of a block in a
  // hand-off across CPUs (the partner runs elsewhere), answered in a few
  // loads rather than pick_slow's full search.
  if (!may_steal && !has_local_work(c)) {
    c.inherit_slice = false;
    return nullptr;
  }
  return pick_slow(c, may_steal);
}

[[noreturn, gnu::cold, gnu::noinline]] void report_claimed(const CpuSched& c, const Thread* t, uint32_t claimed) {
  PANIC("sched: cpu {} picked thread '{}' while cpu {} has it (running, or not yet off its stack)", c.index.value,
        t->name, claimed - 1);
}

// The outgoing thread's side of a switch, decided in switch_to.
enum SwitchFlags : uint32_t {
  kRequeuePrev = 1,    // prev is still runnable: finish_switch queues it
  kPrevMayDie = 2,     // prev may have exited detached: finish_switch frees it
  kIdleMayChange = 4,  // prev or next may be this CPU's idle thread
  kFreshSlice = 8,     // next was not picked from run_next: its quantum starts now (inherit_slice is false)
};

// The incoming thread's side, inline on the switch paths (finish_switch is
// the same for the other resumption points). Compares `from` with what
// switch_to recorded; never reads it unless it is ours to queue or reap.
// One compare when there is nothing to do, as after every block and
// pinned yield.
[[gnu::always_inline]] inline void finish_switch_inline(Thread* from) {
  CpuSched& c = this_sched();
  if (c.finish == from) {
    c.finish = nullptr;
    if (!c.finish_reaps) [[likely]] {
      enqueue(c, from, false);
    } else {
      c.finish_reaps = false;
      queue_for_reaping(from);
    }
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
  const arch::CpuIndex cpu = c.index;
  uint32_t claimed = next->on_cpu.exchange(cpu.value + 1, MemoryOrder::kAcqRel);
  if (claimed != 0) [[unlikely]]
    report_claimed(c, next, claimed);

  uint64_t now = arch::rdtsc();  // the one clock read of a switch
  uint64_t ran = now - prev->switched_in_tsc;
  // Opaque to the optimiser, so that it adds `ran` to run_tsc in memory
  // (copy, subtract, add: three instructions) rather than reassociating
  // to load, subtract, add and store run_tsc (four), on every switch.
  asm("" : "+r"(ran));
  prev->run_tsc += ran;
  next->switched_in_tsc = now;
  next->last_cpu = cpu;
  if constexpr ((kFlags & kIdleMayChange) != 0) {
    uint32_t& gate = arch::this_cpu().sched_no_block;
    gate = (gate & ~kNoBlockIdle) | (next == c.idle ? kNoBlockIdle : 0);
    if (next != c.idle) next->state.store(static_cast<uint32_t>(ThreadState::kRunning), MemoryOrder::kRelaxed);
  } else {
    next->state.store(static_cast<uint32_t>(ThreadState::kRunning), MemoryOrder::kRelaxed);
  }
  if constexpr ((kFlags & kFreshSlice) != 0) {
    DEBUG_ASSERT(!c.inherit_slice);
    c.slice_start_tsc = now;
  } else if (!c.inherit_slice) {
    c.slice_start_tsc = now;
  } else {
    c.inherit_slice = false;  // consumed: false again until a pick sets it
  }
  ++c.switches;
  if constexpr ((kFlags & kRequeuePrev) != 0) c.finish = prev;
  // Decided now, while prev is surely ours: once switch_context clears its
  // on_cpu, a joiner may free it and a spawn reuse the descriptor, so
  // finish_switch must not read it to find out.
  if constexpr ((kFlags & kPrevMayDie) != 0) {
    if (prev->get_state() == ThreadState::kDead && reaps_itself(prev)) [[unlikely]] {
      c.finish = prev;
      c.finish_reaps = true;
    }
  }
  set_current(next);

  Thread* from = switch_threads(prev, next);
  // Back in `prev`, possibly on another CPU; `from` is what this CPU ran.
  finish_switch_inline(from);
}

// Whether any queue this CPU could take work from holds some: its own
// queues, the global queue, or another CPU's ring beyond its run_next
// (which its owner runs next, and thieves take only after a back-off).
// O(CPUs); the idle path only.
bool work_visible(CpuSched& c) {
  if (has_local_work(c)) return true;
  for (uint32_t v = 0; v < ncpu_; ++v) {
    const Ring& r = internal::cpu_sched[v].ring;
    if (v != c.index.value && r.size() > (r.has_run_next() ? 1u : 0u)) return true;
  }
  return false;
}

// For an idle CPU that polls or spins: if its work is a hand-off into the
// inbox and nothing else is queued here, the inbox's oldest thread, to run
// next (the rest go to the bound FIFO, in order), without pick's search,
// which would cost some 80 instructions more on every hand-off. Null
// otherwise (one load when the inbox is empty): the idle loop then picks
// as usual. Interrupts off.
Thread* take_handoff(CpuSched& c) {
  if (c.inbox.empty() || !c.bound.empty() || !c.ring.empty() || c.presence.load(MemoryOrder::kRelaxed) != kCpuActive)
    return nullptr;
  Thread* first = nullptr;
  c.inbox.take_all([&](Thread* t) {
    if (first == nullptr)
      first = t;
    else
      c.bound.push(t);
  });
  if (first == nullptr) return nullptr;
  c.inherit_slice = false;
  const Affinity aff = first->affinity.load(MemoryOrder::kRelaxed);
  if (aff.allows(c.index)) return first;
  forward(first, aff);  // its affinity changed while it was queued
  return nullptr;
}

// Spins for work for up to kSpinNs with interrupts on, so that timers and
// IPIs are taken meanwhile; returns with interrupts off. A turn only looks
// (work_visible: loads, no lock, no CAS) and picks when there is something
// to pick: under -icount every turn is guest time the other vCPUs pay for,
// since QEMU runs the spinner once per PAUSE of theirs.
Thread* spin_for_work(CpuSched& c) {
  uint64_t t0 = arch::rdtsc();
  Thread* next = nullptr;
  arch::sti();
  while (next == nullptr && arch::rdtsc() - t0 < spin_tsc_) {
    arch::cpu_relax();
    arch::cli();
    next = take_handoff(c);
    if (next == nullptr && work_visible(c)) next = pick(c, true);
    arch::sti();
  }
  arch::cli();
  // Last look, including a running victim's run_next after Go's back-off:
  // we are about to stop spinning, so waiting 3 us costs nothing.
  if (next == nullptr) next = steal(c, true);
  c.idle_tsc += arch::rdtsc() - t0;
  return next;
}

// Every thread queued here -> the global queue, for the CPUs that stay;
// one still bound here (it raced with cpu_offline's unpinning) is unbound
// on the way. Interrupts off.
void hand_queued_threads_on(CpuSched& c) {
  bool any = false;
  auto hand_on = [&](Thread* t) {
    Affinity bound_here = Affinity::only(c.index);
    (void)t->affinity.compare_exchange(bound_here, Affinity::any(), MemoryOrder::kAcqRel, MemoryOrder::kRelaxed);
    global_.push(t);
    any = true;
  };
  c.inbox.take_all(hand_on);
  while (Thread* t = c.bound.pop()) hand_on(t);
  while (Thread* t = c.ring.pop()) hand_on(t);
  if (any) wakep(c.index);
}

// This CPU leaves scheduling (cpu_offline.h): hands its threads and timers
// on, returns its cached pages and heap objects, stops its timer, and
// halts until the controller brings it back. Interrupts stay on while it
// halts, so it still answers TLB shootdowns and NMIs. Called from the idle
// loop (the idle thread runs, so nothing else is on this CPU), interrupts
// off; `spinning`: this CPU's count of spinning_, given back here.
void park(CpuSched& c, bool& spinning) {
  if (spinning) {
    spinning_.fetch_sub(1, MemoryOrder::kSeqCst);
    spinning = false;
  }
  c.running = false;  // thieves and spawns pass us by from now on
  c.global_countdown = 0;
  hand_queued_threads_on(c);
  if (arch::cpu_timer_has_one_shot()) {
    arch::SpinLockGuard g(c.timer_lock);
    c.armed_ns = ~uint64_t{0};
    c.quantum_armed = false;
    arch::cpu_timer_arm_ns(~uint64_t{0});
  }
  if (c.index != arch::CpuIndex(0)) {
    migrate_timers(c, internal::cpu_sched[0]);
    arch::kick_cpu(arch::CpuIndex(0));  // to re-arm for what it was given
  }
  mm::page_cache_drain_this_cpu();
  mm::heap_cache_flush_this_cpu();
  // The heap budget this CPU's own account holds goes back too (rt's
  // per-CPU reservation credit, above sched, stays: at most 16 KiB per
  // size class, used again when the CPU returns).
  (void)mm::heap_cpu_charge_flush();
  c.presence.store(kCpuParked, MemoryOrder::kRelease);
  for (;;) {
    // Acquire: the controller's writes before it asked us back.
    if (c.presence.load(MemoryOrder::kAcquire) == kCpuReturning) break;
    hand_queued_threads_on(c);              // a waker that read a stale affinity
    asm volatile("sti; hlt" ::: "memory");  // the STI shadow: a kick after the checks ends the HLT
    arch::cli();
  }
  c.running = true;
  c.slice_start_tsc = arch::rdtsc();
  c.presence.store(kCpuActive, MemoryOrder::kRelease);
}

// Whether an idle CPU has something to do without looking at other CPUs:
// work queued where it takes it first (a hand-off lands in its inbox, a
// wake-up from its own interrupts in its ring), a kick (its idle bit
// cleared: it now holds a spinning count), or a request to go offline.
bool idle_should_wake(CpuSched& c) {
  return has_local_work(c) || !is_idle(c.index) || c.presence.load(MemoryOrder::kRelaxed) != kCpuActive;
}

// Before halting: polls for the halt-poll window, once per idle period (a
// wake-up that brought no work, such as a shootdown IPI or the watchdog's
// NMI, halts again at once), with the idle bit set and interrupts on.
// Returns with interrupts off: true if there is something to do, false to
// halt. The bound is TSC time and every turn PAUSEs: under -icount QEMU
// switches vCPUs only at PAUSE or HLT, so the turn is what lets the waker
// run, and the poller's turns are guest time the other vCPUs pay for.
bool poll_for_handoff(CpuSched& c) {
  uint64_t window = c.halt_poll.window();
  if (window == 0 || c.polled_this_idle) return false;
  c.polled_this_idle = true;
  uint64_t t0 = arch::rdtsc();
  c.polling.store(1, MemoryOrder::kRelaxed);
  arch::sti();
  bool wake;
  while (!(wake = idle_should_wake(c)) && arch::rdtsc() - t0 < window) arch::cpu_relax();
  arch::cli();
  // A full barrier, then one more look: a waker that still read polling ==
  // 1 skipped its IPI, and its store came before that read.
  (void)c.polling.exchange(0, MemoryOrder::kSeqCst);
  if (!wake) wake = idle_should_wake(c);
  c.idle_tsc += arch::rdtsc() - t0;
  return wake;
}

[[noreturn]] void idle_loop(CpuSched& c) {
  bool spinning = false;     // this CPU holds one count of spinning_
  Thread* handed = nullptr;  // taken from the inbox by the last poll
  for (;;) {
    arch::cli();
    if (c.presence.load(MemoryOrder::kAcquire) == kCpuLeaving) [[unlikely]] {
      if (handed != nullptr) c.bound.push(handed);  // park hands it on
      handed = nullptr;
      park(c, spinning);
    }
    // Looks before it picks: right after a block (whose pick found nothing
    // here) pick_slow's full search, steals included, would cost some 100
    // instructions on every hand-off to find nothing again.
    Thread* next = handed;
    handed = nullptr;
    if (next == nullptr && work_visible(c)) next = pick(c, true);
    if (next == nullptr && c.idle_since_tsc == 0) c.idle_since_tsc = arch::rdtsc();
    if (next == nullptr && !spinning) {
      // Spin of our own accord only while fewer than half the CPUs do
      // (Go's bound); a kicked CPU spins regardless: it holds a count.
      uint32_t n = spinning_.load(MemoryOrder::kRelaxed);
      spinning = 2 * n < ncpu_ && spinning_.compare_exchange(n, n + 1, MemoryOrder::kAcqRel, MemoryOrder::kRelaxed);
    }
    if (next == nullptr && spinning) next = spin_for_work(c);
    if (spinning) {
      spinning = false;
      // A full barrier (locked RMW) before looking again: Dekker with the
      // queuer's push-then-wakep.
      uint32_t left = spinning_.fetch_sub(1, MemoryOrder::kSeqCst) - 1;
      if (next != nullptr) {
        // Found work: the last looker hands the looking on, if anything is
        // left to look at (Go wakes one unconditionally; on a ping-pong
        // that kicks the partner CPU on every round trip). The scan comes
        // after the decrement, so work whose queuer saw us spinning and
        // kicked nobody is in it.
        if (left == 0 && any_idle_but(c.index) && work_visible(c)) wakep(c.index);
      } else if (work_visible(c)) {
        // Queued after our last look, by a queuer that saw us spinning and
        // kicked nobody: look again, as a spinner.
        spinning_.fetch_add(1, MemoryOrder::kSeqCst);
        spinning = true;
        continue;
      }
    }
    if (next != nullptr) {
      // Leaving idle with more work queued here (a steal brings half a
      // ring): make sure somebody looks at the rest.
      if (!c.ring.empty()) wakep(c.index);
      if (c.idle_since_tsc != 0) {
        c.halt_poll.on_work(arch::rdtsc() - c.idle_since_tsc);
        c.idle_since_tsc = 0;
      }
      c.polled_this_idle = false;
      rearm_timer_leaving_idle(c);
      switch_to<kIdleMayChange>(c, c.idle, next);
      continue;
    }
    set_idle_bit(c.index);
    // One more look now that wakers can see the bit: anything queued
    // before it was visible is found here, anything after gets a kick.
    // The same for a request to go offline: its kick may have been taken
    // while we spun (interrupts on), and would not end the HLT below.
    if (work_visible(c) || c.presence.load(MemoryOrder::kSeqCst) != kCpuActive) {
      spinning = !clear_idle_bit(c.index);  // a kicker's count, if it took our bit
      arch::cpu_relax();
      continue;
    }
    if (poll_for_handoff(c)) {
      spinning = !clear_idle_bit(c.index);
      handed = take_handoff(c);
      continue;
    }
    // Tickless: only a pending timer of this CPU arms the hardware.
    rearm_timer(c, arch::nanotime(), false);
    uint64_t t0 = arch::rdtsc();
    __atomic_store_n(&c.halted_since_tsc, t0, __ATOMIC_RELAXED);
    // STI's one-instruction shadow ([sdm3] 6.8.3) makes "sti; hlt" atomic
    // with respect to the checks above: a kick after them ends the HLT.
    // (HLT rather than MWAIT: QEMU's TCG treats MWAIT as a PAUSE when it
    // has more than one CPU, so an MWAIT idle could not be tested here.)
    arch::lazy_tlb_enter(c.index);  // shootdowns skip this CPU until it wakes
    asm volatile("sti; hlt" ::: "memory");
    arch::cli();
    arch::lazy_tlb_exit(c.index);  // the waking interrupt flushed if it had to
    // idle_tsc first: a reader (cpu_stats) adds the running halt to it
    // while halted_since is set, so it may briefly count this halt twice
    // but never miss it.
    __atomic_store_n(&c.idle_tsc, c.idle_tsc + (arch::rdtsc() - t0), __ATOMIC_RELAXED);
    __atomic_store_n(&c.halted_since_tsc, 0, __ATOMIC_RELAXED);
    spinning = !clear_idle_bit(c.index);
  }
}

// ---- the idle invariant --------------------------------------------------
//
// "A thread that is runnable while some CPU idles is picked up within one
// quantum." Checked where a violation shows, at the quantum tick of a busy
// CPU (the only kind with stealable work queued): it watches its newest
// ring element; if that element is still queued kIdleBoundNs later while
// some CPU has been halted since before the watch began, the invariant was
// broken for at least that long. Always on: one tick per quantum reads two
// ring counters, and scans the CPUs only when a watch runs long.
// While some CPU spins, somebody is looking: the wait may run longer, up
// to the second bound, past which a spinner that never takes the work (a
// spinning count that leaked) is a violation too. The bound is generous
// because under -icount QEMU runs one vCPU at a time: a kicked vCPU waits
// its turn behind every busy one, and the wake chain that spreads a burst
// (one steal per hop, each by a CPU the previous one kicked) takes a turn
// per hop. For the same reason a violation takes two strikes: the
// condition seen at two ticks of the busy CPU at least a quantum apart
// (the first tick's safety net has kicked a CPU by the second), so a
// looker caught by the emulator between its decrement and its kick is not
// mistaken for a stranded CPU, while a CPU stranded for good still is.
constexpr uint64_t kIdleBoundNs = 4 * kQuantumNs;
constexpr uint64_t kIdleBoundSpinningNs = 64 * kQuantumNs;

struct IdleViolations {
  base::Atomic<uint64_t> count{0};
  // The first one, for the report.
  uint32_t idle_cpu = 0;
  uint32_t busy_cpu = 0;
  uint64_t waited_ns = 0;
  uint64_t halted_ns = 0;  // how long the idle CPU had been halted
  uint32_t spinning = 0;   // spinning_ when it was seen
  uint32_t queued = 0;     // the busy CPU's ring, run_next aside
};
constinit IdleViolations violations_;
constinit uint64_t idle_bound_tsc_ = 0;           // kIdleBoundNs in TSC cycles (sched_init)
constinit uint64_t idle_bound_spinning_tsc_ = 0;  // kIdleBoundSpinningNs likewise

[[gnu::noinline]] void check_watch(CpuSched& c, uint64_t now) {  // now: TSC
  if (now - c.watch_tsc < idle_bound_spinning_tsc_ && spinning_.load(MemoryOrder::kRelaxed) != 0) return;
  for (uint32_t v = 0; v < ncpu_; ++v) {
    uint64_t since = __atomic_load_n(&internal::cpu_sched[v].halted_since_tsc, __ATOMIC_RELAXED);
    // A CPU already kicked (its bit cleared) is on its way out of HLT: slow
    // to wake, perhaps (an emulator schedules vCPUs as it likes), but not
    // forgotten. The invariant is about CPUs nobody will wake.
    if (v == c.index.value || since == 0 || since >= c.watch_tsc || !is_idle(arch::CpuIndex(v))) continue;
    if (++c.watch_strikes < 2) return;
    if (violations_.count.fetch_add(1, MemoryOrder::kRelaxed) == 0) {
      violations_.idle_cpu = v;
      violations_.busy_cpu = c.index.value;
      violations_.waited_ns = arch::tsc_to_ns(now - c.watch_tsc);
      violations_.halted_ns = arch::tsc_to_ns(now - since);
      violations_.spinning = spinning_.load(MemoryOrder::kRelaxed);
      violations_.queued = c.ring.tail_index() - c.ring.head_index();
    }
    c.watching = false;  // one report per watched element
    return;
  }
}

// At a busy CPU's tick, interrupts off: the check above, then the safety
// net of the wake protocol (top of file).
void check_idle_invariant(CpuSched& c, uint64_t now) {  // now: TSC
  uint32_t head = c.ring.head_index();
  uint32_t tail = c.ring.tail_index();
  if (c.watching) {
    if (static_cast<int32_t>(c.watch_index - head) < 0)
      c.watching = false;  // taken: by us or a thief
    else if (now - c.watch_tsc >= idle_bound_tsc_)
      check_watch(c, now);
  }
  if (!c.watching && tail != head) {
    c.watching = true;
    c.watch_strikes = 0;
    c.watch_index = tail - 1;
    c.watch_tsc = now;
  }
  if (tail != head || !global_.empty()) {
    ++c.tick_wakeps;
    wakep(c.index);
  }
}

void idle_thread_fn(void*) {
  // Spawned for CPU 0 and started by its first switch; never returns.
  arch::cli();
  idle_loop(this_sched());
}

}  // namespace

uint64_t quantum_tsc() { return quantum_tsc_; }
uint32_t sched_cpus() { return ncpu_; }

bool is_idle_thread(const Thread* t) {
  for (uint32_t cpu = 0; cpu < ncpu_; ++cpu)
    if (internal::cpu_sched[cpu].idle == t) return true;
  return false;
}

bool sched_running() {
  CpuSched* s = arch::this_cpu().sched;
  return s != nullptr && s->running;
}

Thread* adopt_boot_thread(const char* name, uint64_t stack_lo, uint64_t stack_hi);  // thread.cc
Thread* make_idle_thread(arch::CpuIndex cpu, ThreadFn fn);                          // thread.cc
Thread* adopt_idle_context(arch::CpuIndex cpu);                                     // thread.cc

namespace {

// The timer interrupt, LAPIC or PIT. EOI first: the scheduler may switch
// threads from here, and the LAPIC must not keep the timer's vector in
// service meanwhile ([sdm3] 10.8.5).
void on_timer_trap(arch::TrapFrame&) {
  ++arch::this_cpu().timer_ticks;
  arch::lapic_eoi();
  on_timer_interrupt();
}

}  // namespace

void sched_init(uint32_t ncpu, uint64_t stack_lo, uint64_t stack_hi) {
  ASSERT_MSG(ncpu >= 1 && ncpu <= arch::kMaxCpus, "sched: {} CPUs", ncpu);
  ncpu_ = ncpu;
  ASSERT_MSG(arch::tsc_hz() != 0, "sched: no TSC rate (the clock is calibrated first)");
  quantum_tsc_ = kQuantumNs * arch::tsc_hz() / 1'000'000'000;
  arch::set_trap_handler(arch::kVectorLapicTimer, on_timer_trap);
  arch::set_trap_handler(arch::kVectorPitTimer, on_timer_trap);
  idle_bound_tsc_ = kIdleBoundNs / kQuantumNs * quantum_tsc_;
  idle_bound_spinning_tsc_ = kIdleBoundSpinningNs / kQuantumNs * quantum_tsc_;
  spin_tsc_ = kSpinNs * arch::tsc_hz() / 1'000'000'000;
  for (uint32_t i = 0; i < ncpu; ++i)
    internal::cpu_sched[i].halt_poll.configure(kPollMaxNs * arch::tsc_hz() / 1'000'000'000,
                                               kPollGrowStartNs * arch::tsc_hz() / 1'000'000'000);
  global_.set_ncpu(ncpu);
  for (uint32_t i = 0; i < ncpu; ++i) internal::cpu_sched[i].index = arch::CpuIndex(i);
  arch::this_cpu().sched = &internal::cpu_sched[0];
  Thread* t = adopt_boot_thread("kmain", stack_lo, stack_hi);
  t->on_cpu.store(1 + 0, MemoryOrder::kRelaxed);  // claimed by CPU 0
  t->switched_in_tsc = arch::rdtsc();
  arch::this_cpu().current_thread = t;
}

void sched_start_boot_cpu() {
  CpuSched& c = internal::cpu_sched[0];
  c.idle = make_idle_thread(arch::CpuIndex(0), idle_thread_fn);
  c.slice_start_tsc = arch::rdtsc();
  c.running = true;
  arch::this_cpu().sched_no_block &= ~kNoBlockStopped;  // kmain runs: it may block now
  rearm_timer(c, arch::nanotime(), true);
}

void sched_run_ap(arch::CpuIndex cpu) {
  CpuSched& c = internal::cpu_sched[cpu.value];
  arch::this_cpu().sched = &c;
  c.idle = adopt_idle_context(cpu);
  c.idle->on_cpu.store(1 + cpu.value, MemoryOrder::kRelaxed);
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
  ASSERT_MSG(flags & arch::kRflagsIf, "{}: would sleep with interrupts off", what);
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
// kIrqsOff: the caller has interrupts off (wake_irqs_off).
template <bool kIrqsOff = false>
[[gnu::always_inline]] inline void wake_from(Thread* t, ThreadState from) {
  uint32_t expected = static_cast<uint32_t>(from);
  if (!t->state.compare_exchange(expected, static_cast<uint32_t>(ThreadState::kRunnable), MemoryOrder::kAcqRel,
                                 MemoryOrder::kRelaxed))
    return;
  while (t->on_cpu.load(MemoryOrder::kAcquire) != 0) arch::cpu_relax();
  if constexpr (kIrqsOff) {
    // enqueue(), with each case but the first a tail call.
    CpuSched& c = this_sched();
    const Affinity aff = t->affinity.load(MemoryOrder::kRelaxed);
    if (aff == Affinity::only(c.index))
      c.bound.push(t);
    else if (aff.is_any())
      enqueue_unbound(c, t, true);
    else
      enqueue_remote(aff.cpu(), t);
  } else {
    uint64_t flags = arch::irq_save();
    enqueue(this_sched(), t, true);
    arch::irq_restore(flags);
  }
}

}  // namespace

void wake(Thread* t) { wake_from(t, ThreadState::kBlocked); }

void wake_irqs_off(Thread* t) { wake_from<true>(t, ThreadState::kBlocked); }

// Sleep's wake-up (timer.cc): same as wake() for a sleeping thread.
void wake_sleeper(Thread* t) { wake_from(t, ThreadState::kSleeping); }

void make_runnable_new(Thread* t) {
  uint64_t flags = arch::irq_save();
  CpuSched& c = this_sched();
  if (t->affinity.load(MemoryOrder::kRelaxed).is_any()) {
    c.ring.push(t, false, global_);
    wakep(c.index);
  } else {
    enqueue(c, t, false);
  }
  arch::irq_restore(flags);
}

// A pinned yield whose pick would take the bound FIFO's head, also bound
// here (a pinned hand-off, and the common case): pick's choice and our
// requeue in one rotate of the FIFO, which this CPU alone touches. We
// join the FIFO before the switch rather than by finish_switch after it:
// this CPU pops it only after switch_context has left our stack and
// cleared our on_cpu, so the rule that no queue holds a thread still on a
// CPU's stack holds as it is observed; the pick that could take us comes
// after the switch, and it still claims us with the exchange that checks
// it. Returns false, having changed nothing, in every other case.
[[gnu::always_inline]] inline bool yield_by_rotating(CpuSched& c, Thread* me, arch::CpuIndex cpu) {
  const uint32_t countdown = c.global_countdown;
  if (!(c.inbox.empty() && countdown != 0 && bound_fifo_turn(c, countdown))) return false;
  Thread* next = c.bound.front();
  if (next->affinity.load(MemoryOrder::kRelaxed) != Affinity::only(cpu)) return false;
  (void)c.bound.rotate(me);
  c.global_countdown = countdown - 1;  // pick's count, and the bound FIFO's turn
  me->state.store(static_cast<uint32_t>(ThreadState::kRunnable), MemoryOrder::kRelaxed);
  ++me->voluntary;
  switch_to<kFreshSlice>(c, me, next);
  return true;
}

void yield() {
  (void)enter_blocking("yield");
  CpuSched& c = this_sched();
  Thread* me = cur();
  const arch::CpuIndex cpu = c.index;
  const bool bound_here = me->affinity.load(MemoryOrder::kRelaxed) == Affinity::only(cpu);
  if (!(bound_here && yield_by_rotating(c, me, cpu))) {
    Thread* next = pick(c, false);
    if (next == nullptr) [[unlikely]] {
      // Nobody else to run: stay, unless our affinity now says elsewhere.
      if (!me->affinity.load(MemoryOrder::kRelaxed).allows(cpu)) {
        me->state.store(static_cast<uint32_t>(ThreadState::kRunnable), MemoryOrder::kRelaxed);
        ++me->voluntary;
        switch_to_idle(c, me, true);
      }
    } else {
      me->state.store(static_cast<uint32_t>(ThreadState::kRunnable), MemoryOrder::kRelaxed);
      ++me->voluntary;
      switch_to<kRequeuePrev>(c, me, next);
    }
  }
  // enter_blocking found interrupts on (else it panicked): restore them.
  arch::sti();
}

void on_timer_interrupt() {
  if (!sched_running()) return;
  CpuSched& c = this_sched();
  ++c.timer_interrupts;
  uint64_t now = arch::nanotime();
  run_expired_timers(c, now);
  Thread* me = cur();
  if (me == c.idle) return;  // the idle loop re-arms before it halts again
  if (c.presence.load(MemoryOrder::kRelaxed) == kCpuLeaving && arch::this_cpu().sched_no_block < kNoBlockPreempt) {
    // Asked to go offline: the running thread goes back on the queue (the
    // idle loop hands it on) and the idle thread parks this CPU.
    ++me->involuntary;
    me->state.store(static_cast<uint32_t>(ThreadState::kRunnable), MemoryOrder::kRelaxed);
    c.global_countdown = 0;
    switch_to_idle(c, me, true);
    return;
  }
  check_idle_invariant(c, arch::rdtsc());
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
             arch::this_cpu().cli.depth == 0 && (flags & arch::kRflagsIf);
  if (now) c.need_resched = false;
  arch::irq_restore(flags);
  if (now) yield();
}

IdleMark cpu_idle_mark(arch::CpuIndex cpu) {
  const CpuSched& c = sched_of(cpu);
  return IdleMark{__atomic_load_n(&c.halted_since_tsc, __ATOMIC_RELAXED) != 0,
                  __atomic_load_n(&c.idle_tsc, __ATOMIC_RELAXED)};
}

CpuStats cpu_stats(arch::CpuIndex cpu) {
  const CpuSched& c = sched_of(cpu);
  CpuStats s;
  s.switches = __atomic_load_n(&c.switches, __ATOMIC_RELAXED);
  s.steals = __atomic_load_n(&c.steals, __ATOMIC_RELAXED);
  // A CPU halted now has not yet added this halt to idle_tsc.
  uint64_t halted_since = __atomic_load_n(&c.halted_since_tsc, __ATOMIC_RELAXED);
  uint64_t idle_tsc = __atomic_load_n(&c.idle_tsc, __ATOMIC_RELAXED);
  if (halted_since != 0) idle_tsc += arch::rdtsc() - halted_since;
  s.idle_ns = arch::tsc_to_ns(idle_tsc);
  s.preemptions = __atomic_load_n(&c.preemptions, __ATOMIC_RELAXED);
  s.timer_interrupts = __atomic_load_n(&c.timer_interrupts, __ATOMIC_RELAXED);
  s.queued = c.ring.size() + c.bound.size() + c.inbox.size();
  s.wakeups_sent = __atomic_load_n(&c.wakeups_sent, __ATOMIC_RELAXED);
  s.tick_wakeps = __atomic_load_n(&c.tick_wakeps, __ATOMIC_RELAXED);
  return s;
}

IdleInvariantReport idle_invariant_report() {
  IdleInvariantReport r;
  r.violations = violations_.count.load(MemoryOrder::kAcquire);
  r.first_idle_cpu = violations_.idle_cpu;
  r.first_busy_cpu = violations_.busy_cpu;
  r.first_waited_ns = violations_.waited_ns;
  r.first_spinning = violations_.spinning;
  r.first_halted_ns = violations_.halted_ns;
  r.first_queued = violations_.queued;
  r.bound_ns = kIdleBoundNs;
  return r;
}

}  // namespace sched
