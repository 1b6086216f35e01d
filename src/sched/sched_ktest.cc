// In-kernel tests of the scheduler: threads, switching, preemption, idle,
// sleeps, futexes, sync primitives, stealing and fairness. (The long
// torture run is src/torture's; the SIMD policy is in simd_ktest.cc.)
#include "src/arch/clock.h"
#include "src/arch/cpu_timer.h"
#include "src/arch/percpu.h"
#include "src/arch/smp.h"
#include "src/arch/smp_boot.h"
#include "src/arch/spinlock.h"
#include "src/arch/x86.h"
#include "src/base/atomic.h"
#include "src/ktest/ktest.h"
#include "src/ktest/pin_to.h"
#include "src/ktest/require.h"
#include "src/ktest/timing.h"
#include "src/ktest/wait_until.h"
#include "src/mm/kmalloc.h"
#include "src/mm/kva.h"
#include "src/mm/page_alloc.h"
#include "src/sched/futex.h"
#include "src/sched/sched.h"
#include "src/sched/sched_cpu.h"
#include "src/sched/sync.h"
#include "src/sched/thread.h"
#include "src/sched/timer.h"

namespace sched {
namespace {

using base::MemoryOrder;
using sched::Thread;

constexpr uint64_t kMs = 1'000'000;

int err(const base::Status& s) { return s.ok() ? 0 : static_cast<int>(s.error()); }

uint32_t this_cpu_index() {
  uint64_t f = arch::irq_save();
  uint32_t i = arch::this_cpu().index.value;
  arch::irq_restore(f);
  return i;
}

Thread* must_spawn(sched::ThreadFn fn, void* arg, sched::ThreadOptions o = {}) {
  base::Result<Thread*> t = sched::spawn(fn, arg, o);
  ASSERT_MSG(t.ok(), "spawn failed: {}", base::error_name(t.error()));
  return t.value();
}

// ---- threads --------------------------------------------------------------

void set_flag(void* p) { static_cast<base::Atomic<uint32_t>*>(p)->store(1, MemoryOrder::kRelease); }

KTEST(sched, spawn_runs_the_function_and_join_waits_for_it) {
  base::Atomic<uint32_t> ran{0};
  Thread* t = must_spawn(set_flag, &ran, {.name = "setter"});
  KEXPECT_EQ(t->name[0], 's');
  sched::join(t);
  KEXPECT_EQ(ran.load(MemoryOrder::kAcquire), 1u);
}

KTEST(sched, spawn_rejects_bad_arguments) {
  KEXPECT_EQ(sched::spawn(nullptr, nullptr).error(), base::Error::kInvalidArgument);
  KEXPECT_EQ(sched::spawn(set_flag, nullptr, {.stack_size = 16}).error(), base::Error::kInvalidArgument);
  KEXPECT_EQ(sched::spawn(set_flag, nullptr, {.stack_size = sched::kMaxStackSize + 1}).error(),
             base::Error::kInvalidArgument);
  KEXPECT_EQ(
      sched::spawn(set_flag, nullptr, {.affinity = sched::Affinity::only(arch::CpuIndex(sched::sched_cpus()))}).error(),
      base::Error::kInvalidArgument);
}

struct Counter {
  base::Atomic<uint64_t> n{0};
};
void bump(void* p) { static_cast<Counter*>(p)->n.fetch_add(1, MemoryOrder::kRelaxed); }

// Spawns `count` threads, all alive at once, then joins them all.
bool spawn_join_many(ktest::Context& ktest_ctx, size_t count, Counter& c) {
  auto** threads = static_cast<Thread**>(mm::kmalloc(count * sizeof(Thread*)));
  KEXPECT_TRUE(threads != nullptr);
  if (threads == nullptr) return false;
  size_t made = 0;
  for (; made < count; ++made) {
    base::Result<Thread*> t = sched::spawn(bump, &c, {.name = "many", .stack_size = sched::kMinStackSize});
    if (!t.ok()) break;
    threads[made] = t.value();
  }
  KEXPECT_EQ(made, count);
  for (size_t i = 0; i < made; ++i) sched::join(threads[i]);
  mm::kfree(threads);
  return made == count;
}

uint64_t free_pages() {
  mm::page_cache_drain_this_cpu();
  return mm::page_alloc_stats().phys.free_pages;
}

KTEST(sched, spawn_and_join_10000_threads_leaks_nothing) {
  constexpr size_t kThreads = 10'000;
  // All alive at once: each a smallest stack and about 1 KiB more (its
  // descriptor and its share of the stack mappings' page tables; measured
  // 4.8 KiB a thread in all), beside the boot's own 4 MiB or so.
  KTEST_REQUIRE_MEMORY(kThreads * (sched::kMinStackSize + 1024) + (uint64_t{4} << 20));
  size_t before = sched::thread_count();
  Counter c;
  KASSERT_TRUE(spawn_join_many(ktest_ctx, kThreads, c));
  KEXPECT_EQ(c.n.load(MemoryOrder::kRelaxed), kThreads);
  KEXPECT_EQ(sched::thread_count(), before);
  // Descriptors stay (type-stable); stacks and their mappings go back. So
  // a second round, reusing the descriptors, ends where the first did.
  uint64_t after_first = free_pages();
  KASSERT_TRUE(spawn_join_many(ktest_ctx, kThreads, c));
  KEXPECT_EQ(c.n.load(MemoryOrder::kRelaxed), 2 * kThreads);
  uint64_t after_second = free_pages();
  KEXPECT_LE(after_first, after_second + 16);  // slack: other CPUs' page caches
  KEXPECT_EQ(sched::thread_count(), before);
}

struct DetachProbe {
  base::Atomic<uint32_t> detached{0};
  base::Atomic<uint32_t> done{0};
};
void exit_once_detached(void* p) {
  auto* d = static_cast<DetachProbe*>(p);
  // Detached before it exits: the path under test, in which the thread
  // queues itself for reaping (one that ended first is freed by detach()).
  (void)ktest::wait_until([d] { return d->detached.load(MemoryOrder::kAcquire) != 0; });
  d->done.store(1, MemoryOrder::kRelease);
}

KTEST(sched, detached_thread_frees_itself) {
  // A spawn frees what earlier tests' detached threads left queued, so
  // that the count below is this test's alone.
  base::Atomic<uint32_t> dummy{0};
  sched::join(must_spawn(set_flag, &dummy));
  size_t before = sched::thread_count();
  DetachProbe d;
  Thread* t = must_spawn(exit_once_detached, &d, {.name = "detached"});
  sched::detach(t);
  d.detached.store(1, MemoryOrder::kRelease);
  KEXPECT_TRUE(ktest::wait_until([&] { return d.done.load(MemoryOrder::kAcquire) != 0; }));
  // Freed by the first spawn or join after its last switch, which follows
  // `done` closely but not at once: spawn and join until it is gone.
  KEXPECT_TRUE(ktest::wait_until([&] {
    sched::join(must_spawn(set_flag, &dummy));
    return sched::thread_count() == before;
  }));
}

struct Turns {
  base::Atomic<uint32_t> log[64];
  uint32_t threads = 2;
  base::Atomic<uint32_t> n{0};
  base::Atomic<uint32_t> ready{0};
};
struct TurnArg {
  Turns* turns;
  uint32_t id;
};
void take_turns(void* p) {
  auto* a = static_cast<TurnArg*>(p);
  // Without real-time pacing (no -icount) the first thread could run all
  // its turns before the second is even spawned: start together.
  a->turns->ready.fetch_add(1, MemoryOrder::kRelaxed);
  while (a->turns->ready.load(MemoryOrder::kRelaxed) < a->turns->threads) sched::yield();
  for (int i = 0; i < 16; ++i) {
    uint32_t k = a->turns->n.fetch_add(1, MemoryOrder::kRelaxed);
    if (k < 64) a->turns->log[k].store(a->id, MemoryOrder::kRelaxed);
    sched::yield();
  }
}

KTEST(sched, yield_alternates_threads_on_one_cpu) {
  Turns turns;
  TurnArg a{&turns, 1}, b{&turns, 2};
  uint32_t cpu = arch::cpus_online() - 1;
  Thread* ta = must_spawn(take_turns, &a, {.name = "a", .affinity = sched::Affinity::only(arch::CpuIndex(cpu))});
  Thread* tb = must_spawn(take_turns, &b, {.name = "b", .affinity = sched::Affinity::only(arch::CpuIndex(cpu))});
  sched::join(ta);
  sched::join(tb);
  KASSERT_EQ(turns.n.load(MemoryOrder::kRelaxed), 32u);
  // Once both run, each yield hands over to the other.
  uint32_t switches = 0;
  for (int i = 1; i < 32; ++i)
    switches += turns.log[i].load(MemoryOrder::kRelaxed) != turns.log[i - 1].load(MemoryOrder::kRelaxed);
  KEXPECT_GE(switches, 29u);
}

// Three threads bound to one CPU: each pinned yield rotates the CPU's
// bound FIFO (the head runs, the yielder goes behind the others), so the
// turns go round in a fixed order. With two threads the rotate only ever
// meets a FIFO of one; three make it link behind a queued tail. A
// preemption between a thread's log entry and its yield (host time)
// costs at most a few entries their place.
KTEST(sched, yield_round_robins_three_threads_on_one_cpu) {
  Turns turns;
  turns.threads = 3;
  TurnArg args[3] = {{&turns, 1}, {&turns, 2}, {&turns, 3}};
  const sched::Affinity here = sched::Affinity::only(arch::CpuIndex(arch::cpus_online() - 1));
  Thread* t[3];
  for (int i = 0; i < 3; ++i) t[i] = must_spawn(take_turns, &args[i], {.name = "turn", .affinity = here});
  for (Thread* x : t) sched::join(x);
  KASSERT_EQ(turns.n.load(MemoryOrder::kRelaxed), 48u);
  // Each entry names the thread three entries before it, and never the one
  // just before.
  uint32_t in_order = 0;
  for (int i = 3; i < 48; ++i) {
    uint32_t id = turns.log[i].load(MemoryOrder::kRelaxed);
    in_order +=
        id == turns.log[i - 3].load(MemoryOrder::kRelaxed) && id != turns.log[i - 1].load(MemoryOrder::kRelaxed);
  }
  KEXPECT_GE(in_order, 39u);
}

// ---- sleeping and timers --------------------------------------------------

base::Atomic<uint32_t> spin_stop{0};
void spin_until_stopped(void*) {
  while (spin_stop.load(MemoryOrder::kAcquire) == 0) arch::cpu_relax();
}

KTEST(sched, sleep_1ms_wakes_within_one_quantum_even_on_a_busy_cpu) {
  ktest::PinTo pin(arch::CpuIndex(0));
  spin_stop.store(0, MemoryOrder::kRelaxed);
  Thread* hog =
      must_spawn(spin_until_stopped, nullptr, {.name = "hog", .affinity = sched::Affinity::only(arch::CpuIndex(0))});
  uint64_t worst = 0, best = ~uint64_t{0};
  for (int i = 0; i < 10; ++i) {
    uint64_t t0 = arch::nanotime();
    sched::sleep_for(kMs);
    uint64_t slept = arch::nanotime() - t0;
    if (slept > worst) worst = slept;
    if (slept < best) best = slept;
  }
  spin_stop.store(1, MemoryOrder::kRelease);
  sched::join(hog);
  KEXPECT_GE(best, kMs);
  // 1 ms + one quantum, plus a little for the switches and interrupt entry.
  // On host time the vCPU itself may wait for the host: a wake must still
  // come, well before a hundred quanta.
  KEXPECT_LE(worst, ktest::exact_timing() ? kMs + sched::kQuantumNs + 100'000 : kMs + 100 * sched::kQuantumNs);
}

KTEST(sched, sleep_until_a_past_deadline_returns_at_once) {
  uint64_t t0 = arch::nanotime();
  sched::sleep_until(t0 - 1);
  // "At once": well under a millisecond of guest time; on host time the
  // vCPU may lose the host meanwhile, so only far below a sleep's length.
  KEXPECT_LT(arch::nanotime() - t0, ktest::exact_timing() ? kMs : 100 * kMs);
}

struct TimerProbe {
  sched::Timer timer;
  base::Atomic<uint32_t> fired{0};
};
void on_probe(sched::Timer&, void* p) { static_cast<TimerProbe*>(p)->fired.fetch_add(1, MemoryOrder::kRelaxed); }

KTEST(sched, timer_cancel_before_expiry_stops_the_callback) {
  // Pinned, so the timers and the sleep share one CPU's queue, which runs
  // them in deadline order.
  ktest::PinTo pin(arch::CpuIndex(0));
  TimerProbe p;
  p.timer.set_callback(on_probe, &p);
  // On host time the vCPU may lose the host between the arm and the
  // cancel for longer than 5 ms: there the deadline is far enough away.
  const uint64_t ahead = ktest::exact_timing() ? 5 * kMs : 500 * kMs;
  sched::timer_arm(p.timer, arch::nanotime() + ahead);
  KEXPECT_TRUE(sched::timer_cancel(p.timer));
  // An absence: nothing to wait on but the deadline. Had the cancel
  // failed, the callback would run before this later sleep's wakeup.
  sched::sleep_for(ahead + 5 * kMs);
  KEXPECT_EQ(p.fired.load(MemoryOrder::kRelaxed), 0u);
  KEXPECT_TRUE(!sched::timer_cancel(p.timer));
  sched::timer_arm(p.timer, arch::nanotime() + kMs);
  KEXPECT_TRUE(ktest::wait_until([&] { return p.fired.load(MemoryOrder::kRelaxed) != 0; }));
  KEXPECT_EQ(p.fired.load(MemoryOrder::kRelaxed), 1u);
  KEXPECT_TRUE(!sched::timer_cancel(p.timer));
}

// ---- idle and preemption --------------------------------------------------

uint64_t ticks_of(uint32_t cpu) {
  return __atomic_load_n(&arch::cpu_block(arch::CpuIndex(cpu)).timer_ticks, __ATOMIC_RELAXED);
}

KTEST(sched, idle_cpus_take_no_timer_ticks) {
  if (arch::timer_source() == arch::TimerSource::kPit) KTEST_SKIP("the PIT ticks the boot CPU periodically");
  if (arch::cpus_online() < 2) KTEST_SKIP("needs 2 CPUs (one to stay idle)");
  ktest::PinTo pin(arch::CpuIndex(0));
  // The others settled into idle: each halted (a CPU that has not halted
  // yet may still finish a quantum, and take its tick).
  KEXPECT_TRUE(ktest::wait_until([] {
    for (uint32_t c = 1; c < arch::cpus_online(); ++c)
      if (__atomic_load_n(&sched_of(arch::CpuIndex(c)).halted_since_tsc, __ATOMIC_RELAXED) == 0) return false;
    return true;
  }));
  uint64_t before[arch::kMaxCpus];
  for (uint32_t c = 1; c < arch::cpus_online(); ++c) before[c] = ticks_of(c);
  // 50 ms of busy waiting here, so nothing is queued anywhere.
  uint64_t t0 = arch::nanotime();
  while (arch::nanotime() - t0 < 50 * kMs) arch::cpu_relax();
  for (uint32_t c = 1; c < arch::cpus_online(); ++c) KEXPECT_LE(ticks_of(c) - before[c], 1u);
}

KTEST(sched, busy_cpu_ticks_once_per_quantum) {
  if (arch::timer_source() == arch::TimerSource::kPit) KTEST_SKIP("the PIT ticks at its own rate, not per quantum");
  ktest::PinTo pin(arch::CpuIndex(0));
  uint64_t before = ticks_of(0);
  uint64_t t0 = arch::nanotime();
  while (arch::nanotime() - t0 < 100 * kMs) arch::cpu_relax();
  uint64_t elapsed = arch::nanotime() - t0;
  uint64_t expected = elapsed / sched::kQuantumNs;
  uint64_t ticks = ticks_of(0) - before;
  // Never more than one tick per quantum (no timer storm). Exact time also
  // bounds it from below; on host time a descheduled vCPU takes one late
  // tick for several quanta, so only progress is checked.
  KEXPECT_LE(ticks * 100, expected * 110);
  if (ktest::exact_timing()) {
    KEXPECT_GE(ticks * 100, expected * 90);
  } else {
    KEXPECT_GE(ticks, 1u);
  }
}

struct Share {
  base::Atomic<uint32_t>* stop;
  uint64_t spins = 0;
};
// CPU-bound: a thousand-iteration stretch of work between looks at the
// stop flag. (The pause after each keeps QEMU's one-vCPU-at-a-time icount
// mode switching vCPUs, but one per iteration would make QEMU's vCPU
// switching, not the guest, the cost of the test.)
void count_spins(void* p) {
  auto* s = static_cast<Share*>(p);
  while (s->stop->load(MemoryOrder::kRelaxed) == 0) {
    for (int k = 0; k < 1000; ++k) asm volatile("" ::: "memory");
    __atomic_store_n(&s->spins, s->spins + 1, __ATOMIC_RELAXED);
    arch::cpu_relax();
  }
}

KTEST(sched, cpu_bound_threads_on_one_cpu_share_it_fairly) {
  constexpr int kThreads = 4;
  uint32_t cpu = arch::cpus_online() > 1 ? 1 : 0;
  base::Atomic<uint32_t> stop{0};
  Share shares[kThreads];
  Thread* threads[kThreads];
  for (int i = 0; i < kThreads; ++i) {
    shares[i].stop = &stop;
    threads[i] =
        must_spawn(count_spins, &shares[i], {.name = "fair", .affinity = sched::Affinity::only(arch::CpuIndex(cpu))});
  }
  // One second, sampled from the threads' own run-time accounting.
  sched::sleep_for(1000 * kMs);
  stop.store(1, MemoryOrder::kRelease);
  uint64_t run[kThreads], preempted[kThreads], total = 0;
  for (int i = 0; i < kThreads; ++i) {
    sched::ThreadStats st = sched::thread_stats(threads[i]);
    run[i] = st.run_ns;
    preempted[i] = st.involuntary;
    total += run[i];
  }
  for (int i = 0; i < kThreads; ++i) sched::join(threads[i]);
  // Each within 20% of a fair share. On host time a thread is charged for
  // whatever the host took from its vCPU during its slices (a loaded host
  // took 70% more than a share from one thread in 20 runs), so there only
  // starvation and monopoly are caught: each between a fifth of a share
  // and three shares.
  const uint64_t low = ktest::exact_timing() ? 80 : 20, high = ktest::exact_timing() ? 120 : 300;
  for (int i = 0; i < kThreads; ++i) {
    KEXPECT_GE(run[i] * kThreads * 100, total * low);
    KEXPECT_LE(run[i] * kThreads * 100, total * high);
    KEXPECT_GT(preempted[i], 0u);
  }
}

struct Spread {
  base::Atomic<uint32_t> stop{0};
  base::Atomic<uint64_t> cpus_seen{0};  // bit per CPU a spinner is on
};
void spin_and_report(void* p) {
  auto* s = static_cast<Spread*>(p);
  while (s->stop.load(MemoryOrder::kRelaxed) == 0) {
    uint32_t c = this_cpu_index();
    if (c < 64) s->cpus_seen.fetch_or(uint64_t{1} << c, MemoryOrder::kRelaxed);
    arch::cpu_relax();
  }
}

KTEST(sched, threads_spawned_on_one_cpu_spread_to_all_within_10ms) {
  uint32_t n = arch::cpus_online();
  if (n < 2) KTEST_SKIP("needs 2 CPUs (nothing to spread to)");
  if (n > 64) KTEST_SKIP("{} CPUs: more than the 64 threads spread", n);
  ktest::PinTo pin(arch::CpuIndex(0));
  constexpr int kThreads = 64;
  Spread s;
  Thread* threads[kThreads];
  uint64_t t0 = arch::nanotime();
  for (int i = 0; i < kThreads; ++i) threads[i] = must_spawn(spin_and_report, &s, {.name = "spread"});
  uint64_t all = n == 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1;
  // Look every half millisecond (sleeping, so CPU 0 runs spinners too).
  // On host time the vCPUs themselves wait for the host's two cores, so
  // there only the spreading is checked, within two seconds.
  const uint64_t limit = ktest::exact_timing() ? 10 * kMs : 2000 * kMs;
  uint64_t spread_ns = 0;
  while (arch::nanotime() - t0 < limit + 40 * kMs) {
    sched::sleep_for(kMs / 2);
    if ((s.cpus_seen.load(MemoryOrder::kRelaxed) | 1) == all) {
      spread_ns = arch::nanotime() - t0;
      break;
    }
  }
  s.stop.store(1, MemoryOrder::kRelease);
  for (int i = 0; i < kThreads; ++i) sched::join(threads[i]);
  KEXPECT_NE(spread_ns, 0u);
  KEXPECT_LE(spread_ns, limit);
  uint64_t steals = 0;
  for (uint32_t c = 1; c < n; ++c) steals += sched::cpu_stats(arch::CpuIndex(c)).steals;
  KEXPECT_GT(steals, 0u);
}

// ---- futex ----------------------------------------------------------------

KTEST(futex, wait_on_a_changed_value_returns_eagain) {
  uint32_t word = 1;
  KEXPECT_EQ(sched::futex_wait(&word, 0), -sched::kEAGAIN);
}

KTEST(futex, wait_times_out) {
  uint32_t word = 0;
  uint64_t t0 = arch::nanotime();
  KEXPECT_EQ(sched::futex_wait(&word, 0, 2 * kMs), -sched::kETIMEDOUT);
  KEXPECT_GE(arch::nanotime() - t0, 2 * kMs);
}

KTEST(futex, bad_addresses_are_errors) {
  uint32_t words[2] = {0, 0};
  const auto* odd = reinterpret_cast<const uint32_t*>(reinterpret_cast<const char*>(words) + 1);
  KEXPECT_EQ(sched::futex_wait(odd, 0), -sched::kEINVAL);
  KEXPECT_EQ(sched::futex_wake(odd, 1), -sched::kEINVAL);
  // A range of the VA window with nothing mapped.
  base::Result<base::VirtAddr> va = mm::kva_alloc(base::kPageSize);
  KASSERT_TRUE(va.ok());
  KEXPECT_EQ(sched::futex_wait(base::as_ptr<const uint32_t>(va.value()), 0), -sched::kEFAULT);
  KEXPECT_EQ(err(mm::kva_free(va.value(), base::kPageSize)), 0);
}

struct Waiters {
  uint32_t word = 0;
  base::Atomic<uint32_t> woken{0};
  base::Atomic<int32_t> results[8];
};
struct WaiterArg {
  Waiters* w;
  int index;
};
void futex_waiter(void* p) {
  auto* a = static_cast<WaiterArg*>(p);
  int r = sched::futex_wait(&a->w->word, 0);
  a->w->results[a->index].store(r, MemoryOrder::kRelaxed);
  a->w->woken.fetch_add(1, MemoryOrder::kRelease);
}

bool all_blocked(Thread* const* threads, int n) {
  for (int i = 0; i < n; ++i)
    if (threads[i]->get_state() != sched::ThreadState::kBlocked) return false;
  return true;
}

KTEST(futex, wake_counts_and_wakes_exactly_n) {
  constexpr int kWaiters = 6;
  Waiters w;
  WaiterArg args[kWaiters];
  Thread* threads[kWaiters];
  for (int i = 0; i < kWaiters; ++i) {
    args[i] = {&w, i};
    w.results[i].store(99, MemoryOrder::kRelaxed);
    threads[i] = must_spawn(futex_waiter, &args[i], {.name = "waiter"});
  }
  // Until all six sleep in the futex: a waiter is queued on the word
  // before it publishes kBlocked, and nothing else blocks it.
  KEXPECT_TRUE(ktest::wait_until([&] { return all_blocked(threads, kWaiters); }));
  KEXPECT_EQ(sched::futex_wake(&w.word, 0), 0);
  KEXPECT_EQ(sched::futex_wake(&w.word, 2), 2);
  KEXPECT_TRUE(ktest::wait_until([&] { return w.woken.load(MemoryOrder::kAcquire) >= 2; }));
  KEXPECT_EQ(w.woken.load(MemoryOrder::kAcquire), 2u);
  // Exactly two left the queue: the rest are still there to wake.
  KEXPECT_EQ(sched::futex_wake(&w.word, sched::kFutexAll), kWaiters - 2);
  for (int i = 0; i < kWaiters; ++i) sched::join(threads[i]);
  for (int i = 0; i < kWaiters; ++i) KEXPECT_EQ(w.results[i].load(MemoryOrder::kRelaxed), 0);
  KEXPECT_EQ(sched::futex_wake(&w.word, 1), 0);
}

struct PingPong {
  uint32_t word = 0;  // 0: ping's turn, 1: pong's turn
  uint32_t rounds = 0;
  base::Atomic<uint32_t> done{0};
};
void pong(void* p) {
  auto* pp = static_cast<PingPong*>(p);
  for (uint32_t i = 0; i < pp->rounds; ++i) {
    while (__atomic_load_n(&pp->word, __ATOMIC_ACQUIRE) != 1) (void)sched::futex_wait(&pp->word, 0);
    __atomic_store_n(&pp->word, 0, __ATOMIC_RELEASE);
    (void)sched::futex_wake(&pp->word, 1);
  }
}
void ping(PingPong& pp) {
  for (uint32_t i = 0; i < pp.rounds; ++i) {
    __atomic_store_n(&pp.word, 1, __ATOMIC_RELEASE);
    (void)sched::futex_wake(&pp.word, 1);
    while (__atomic_load_n(&pp.word, __ATOMIC_ACQUIRE) != 0) (void)sched::futex_wait(&pp.word, 1);
  }
}

KTEST(futex, ping_pong_across_cpus_loses_no_wakeup) {
  uint32_t other = arch::cpus_online() > 1 ? 1 : 0;
  ktest::PinTo pin(arch::CpuIndex(0));
  PingPong pp;
  pp.rounds = 2000;
  Thread* t = must_spawn(pong, &pp, {.name = "pong", .affinity = sched::Affinity::only(arch::CpuIndex(other))});
  ping(pp);
  sched::join(t);
  KEXPECT_EQ(__atomic_load_n(&pp.word, __ATOMIC_RELAXED), 0u);
}

// ---- sync -----------------------------------------------------------------

struct Shared {
  sched::Mutex m;
  uint64_t value GUARDED_BY(m) = 0;
  uint32_t per_thread = 0;
};
void add_under_mutex(void* p) {
  auto* s = static_cast<Shared*>(p);
  for (uint32_t i = 0; i < s->per_thread; ++i) {
    sched::MutexGuard g(s->m);
    uint64_t v = s->value;
    if ((i & 63) == 0) sched::yield();  // hold it across a switch now and then
    s->value = v + 1;
  }
}

KTEST(sync, mutex_serializes_increments) {
  constexpr int kThreads = 8;
  Shared s;
  s.per_thread = 2000;
  Thread* threads[kThreads];
  for (int i = 0; i < kThreads; ++i) threads[i] = must_spawn(add_under_mutex, &s, {.name = "adder"});
  for (int i = 0; i < kThreads; ++i) sched::join(threads[i]);
  KEXPECT_EQ(s.value, uint64_t{kThreads} * s.per_thread);
  if (s.m.try_lock()) {
    KEXPECT_TRUE(s.m.held_by_me());
    s.m.unlock();
  } else {
    KEXPECT_TRUE(!"try_lock of a free mutex failed");
  }
}

struct NoteArg {
  sched::Note note;
  base::Atomic<uint32_t> after{0};
};
void note_sleeper(void* p) {
  auto* n = static_cast<NoteArg*>(p);
  n->note.sleep();
  n->after.fetch_add(1, MemoryOrder::kRelease);
}

KTEST(sync, note_wakeup_releases_every_sleeper_and_timed_sleep_times_out) {
  NoteArg n;
  KEXPECT_TRUE(!n.note.timed_sleep(kMs));
  Thread* threads[2] = {must_spawn(note_sleeper, &n), must_spawn(note_sleeper, &n)};
  // Both asleep on the note (blocked in its futex), so that the wakeup is
  // what releases them.
  KEXPECT_TRUE(ktest::wait_until([&] { return all_blocked(threads, 2); }));
  KEXPECT_EQ(n.after.load(MemoryOrder::kAcquire), 0u);
  n.note.wakeup();
  sched::join(threads[0]);
  sched::join(threads[1]);
  KEXPECT_EQ(n.after.load(MemoryOrder::kAcquire), 2u);
  KEXPECT_TRUE(n.note.timed_sleep(kMs));  // set: returns at once
  n.note.clear();
  KEXPECT_TRUE(!n.note.is_set());
}

struct Queue {
  sched::Mutex m;
  sched::CondVar not_empty;
  sched::Semaphore slots{4};
  uint32_t items[4] GUARDED_BY(m) = {};
  uint32_t head GUARDED_BY(m) = 0;
  uint32_t count GUARDED_BY(m) = 0;
  uint64_t sum = 0;
};
void producer(void* p) {
  auto* q = static_cast<Queue*>(p);
  for (uint32_t i = 1; i <= 1000; ++i) {
    q->slots.acquire();
    sched::MutexGuard g(q->m);
    q->items[(q->head + q->count) % 4] = i;
    ++q->count;
    q->not_empty.signal();
  }
}

KTEST(sync, condvar_and_semaphore_bounded_queue) {
  Queue q;
  Thread* t = must_spawn(producer, &q, {.name = "producer"});
  for (uint32_t got = 0; got < 1000; ++got) {
    q.m.lock();
    while (q.count == 0) q.not_empty.wait(q.m);
    q.sum += q.items[q.head];
    q.head = (q.head + 1) % 4;
    --q.count;
    q.m.unlock();
    q.slots.release();
  }
  sched::join(t);
  KEXPECT_EQ(q.sum, 1000u * 1001 / 2);
  KEXPECT_EQ(q.slots.value(), 4u);
  // A free unit is taken at once; with none left the wait times out.
  KEXPECT_TRUE(q.slots.try_acquire_for(kMs));
  KEXPECT_EQ(q.slots.value(), 3u);
  for (int i = 0; i < 3; ++i) KEXPECT_TRUE(q.slots.try_acquire());
  KEXPECT_TRUE(!q.slots.try_acquire_for(kMs));
  KEXPECT_EQ(q.slots.value(), 0u);
}

KTEST(sync, condvar_wait_for_times_out_holding_the_mutex) {
  sched::Mutex m;
  sched::CondVar cv;
  m.lock();
  KEXPECT_TRUE(!cv.wait_for(m, kMs));
  KEXPECT_TRUE(m.held_by_me());
  m.unlock();
}

// ---- statistics -------------------------------------------------------------

void count_thread(const Thread&, void* n) { ++*static_cast<size_t*>(n); }

KTEST(sched, thread_list_and_stats_add_up) {
  size_t listed = 0;
  size_t n = sched::for_each_thread(count_thread, &listed);
  KEXPECT_EQ(n, listed);
  KEXPECT_EQ(n, sched::thread_count());
  KEXPECT_GE(n, size_t{1} + arch::cpus_online());  // kmain and an idle thread per CPU
  uint64_t v0 = sched::thread_stats(sched::current()).voluntary;
  sched::sleep_for(kMs);
  KEXPECT_GT(sched::thread_stats(sched::current()).voluntary, v0);
  KEXPECT_GT(sched::cpu_stats(arch::CpuIndex(0)).switches, 0u);
}

// ---- misuse (boot tests expect the panics) ----------------------------------
// The lock misuse is deliberate, so the static analysis is off for it.

sched::Mutex misused;

void unlock_misused(void*) NO_THREAD_SAFETY_ANALYSIS { misused.unlock(); }

void lock_twice() NO_THREAD_SAFETY_ANALYSIS {
  misused.lock();
  misused.lock();
}

void sleep_holding_a_spinlock() NO_THREAD_SAFETY_ANALYSIS {
  static arch::SpinLock lock;
  lock.lock();
  sched::sleep_for(kMs);
}

void lock_then_let_another_unlock() NO_THREAD_SAFETY_ANALYSIS {
  misused.lock();
  sched::join(must_spawn(unlock_misused, nullptr, {.name = "intruder"}));
}

KTEST(xfail_sync, mutex_unlock_by_another_thread_panics) { lock_then_let_another_unlock(); }

KTEST(xfail_sync, recursive_mutex_lock_panics) { lock_twice(); }

KTEST(xfail_sched, sleeping_with_a_spinlock_held_panics) { sleep_holding_a_spinlock(); }

KTEST(xfail_sched, thread_stack_overflow_is_reported) {
  struct Recurse {
    static uint64_t deeper(uint64_t n) {
      volatile char pad[256];
      pad[0] = static_cast<char>(n);
      return n == 0 ? pad[0] : deeper(n - 1) + pad[0];
    }
  };
  Thread* t = must_spawn([](void*) { (void)Recurse::deeper(1'000'000); }, nullptr,
                         {.name = "deep", .stack_size = sched::kMinStackSize});
  sched::join(t);
}

}  // namespace
}  // namespace sched
