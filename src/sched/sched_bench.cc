// Scheduler benchmarks (`bench=sched`): yield, futex and Note ping-pong,
// spawn+join, the uncontended Mutex, cross-CPU wake-to-run latency, and
// yield with 10,000 runnable threads against 2. Each partner thread is
// pinned, and so is the benchmark itself, so that every figure measures
// one fixed path.
#include "src/arch/percpu.h"
#include "src/arch/smp_boot.h"
#include "src/arch/x86.h"
#include "src/base/atomic.h"
#include "src/ktest/bench.h"
#include "src/ktest/pin_to.h"
#include "src/mm/kmalloc.h"
#include "src/sched/futex.h"
#include "src/sched/sched.h"
#include "src/sched/sync.h"
#include "src/sched/thread.h"

namespace sched {
namespace {

using base::MemoryOrder;
using sched::Thread;

Thread* spawn_on(sched::ThreadFn fn, void* arg, uint32_t cpu, const char* name) {
  base::Result<Thread*> t =
      sched::spawn(fn, arg, {.name = name, .affinity = sched::Affinity::only(arch::CpuIndex(cpu))});
  ASSERT_MSG(t.ok(), "bench: spawn: {}", base::error_name(t.error()));
  return t.value();
}

// ---- yield -----------------------------------------------------------------

base::Atomic<uint32_t> yield_stop{0};
void yield_partner(void*) {
  while (yield_stop.load(MemoryOrder::kRelaxed) == 0) sched::yield();
}

// A round trip: we yield to the partner, it yields back.
BENCH_N(sched, yield_round_trip, 2000) {
  ktest::PinTo pin(arch::CpuIndex(0));
  yield_stop.store(0, MemoryOrder::kRelaxed);
  Thread* p = spawn_on(yield_partner, nullptr, 0, "yield-partner");
  sched::yield();  // let it start
  run.start();
  for (uint64_t i = 0; i < run.iterations(); ++i) sched::yield();
  run.stop();
  yield_stop.store(1, MemoryOrder::kRelaxed);
  sched::join(p);
}

// Yield with `n` runnable threads on CPU 0: each yield switches to the next
// in line; the per-round-trip figure (two switches) is comparable with
// yield_round_trip however many threads take part.
struct YieldCrowd {
  base::Atomic<uint32_t> stop{0};
  base::Atomic<uint32_t> started{0};
  base::Atomic<uint64_t> yields{0};
};
void crowd_member(void* p) {
  auto* c = static_cast<YieldCrowd*>(p);
  c->started.fetch_add(1, MemoryOrder::kRelaxed);
  uint64_t mine = 0;
  while (c->stop.load(MemoryOrder::kRelaxed) == 0) {
    sched::yield();
    ++mine;
  }
  c->yields.fetch_add(mine, MemoryOrder::kRelaxed);
}

void yield_with_crowd(ktest::BenchRun& run, uint32_t n) {
  ktest::PinTo pin(arch::CpuIndex(0));
  YieldCrowd crowd;
  auto** threads = static_cast<Thread**>(mm::kmalloc(n * sizeof(Thread*)));
  ASSERT(threads != nullptr);
  for (uint32_t i = 0; i < n; ++i) {
    base::Result<Thread*> t = sched::spawn(
        crowd_member, &crowd,
        {.name = "crowd", .affinity = sched::Affinity::only(arch::CpuIndex(0)), .stack_size = sched::kMinStackSize});
    ASSERT_MSG(t.ok(), "bench: spawn {} of {}: {}", i, n, base::error_name(t.error()));
    threads[i] = t.value();
  }
  while (crowd.started.load(MemoryOrder::kRelaxed) < n) sched::yield();
  // The crowd yields among itself while we measure from outside: every
  // yield we make passes through all n of them.
  uint64_t rounds = run.iterations();
  uint64_t before = crowd.yields.load(MemoryOrder::kRelaxed);
  (void)before;
  uint64_t t0 = arch::rdtsc();
  for (uint64_t i = 0; i < rounds; ++i) sched::yield();
  uint64_t cycles = arch::rdtsc() - t0;
  crowd.stop.store(1, MemoryOrder::kRelaxed);
  for (uint32_t i = 0; i < n; ++i) sched::join(threads[i]);
  mm::kfree(threads);
  // Each of our yields let every other runnable thread run once: n + 1
  // switches per pass; a round trip is two switches.
  run.add_cycles(cycles * 2 / (n + 1));
}

BENCH_N(sched, yield_2_threads, 200) { yield_with_crowd(run, 1); }
BENCH_N(sched, yield_10000_threads, 4) { yield_with_crowd(run, 9'999); }

// ---- futex and Note ping-pong ------------------------------------------------

struct PingPong {
  uint32_t word = 0;  // 1: the partner's turn; 0: ours; 2: stop
  sched::Note to_partner, to_us;
  uint64_t rounds = 0;
};

void futex_partner(void* p) {
  auto* pp = static_cast<PingPong*>(p);
  for (;;) {
    uint32_t v = __atomic_load_n(&pp->word, __ATOMIC_ACQUIRE);
    if (v == 2) return;
    if (v == 0) {
      (void)sched::futex_wait(&pp->word, 0);
      continue;
    }
    __atomic_store_n(&pp->word, 0, __ATOMIC_RELEASE);
    (void)sched::futex_wake(&pp->word, 1);
  }
}

void futex_ping_pong(ktest::BenchRun& run, uint32_t partner_cpu) {
  if (partner_cpu >= arch::cpus_online()) {
    run.skip("needs two CPUs");
    return;
  }
  ktest::PinTo pin(arch::CpuIndex(0));
  PingPong pp;
  Thread* t = spawn_on(futex_partner, &pp, partner_cpu, "futex-partner");
  run.start();
  for (uint64_t i = 0; i < run.iterations(); ++i) {
    __atomic_store_n(&pp.word, 1, __ATOMIC_RELEASE);
    (void)sched::futex_wake(&pp.word, 1);
    while (__atomic_load_n(&pp.word, __ATOMIC_ACQUIRE) == 1) (void)sched::futex_wait(&pp.word, 1);
  }
  run.stop();
  __atomic_store_n(&pp.word, 2, __ATOMIC_RELEASE);
  (void)sched::futex_wake(&pp.word, 1);
  sched::join(t);
}

BENCH_N(sched, futex_ping_pong_1_cpu, 1000) { futex_ping_pong(run, 0); }
BENCH_N(sched, futex_ping_pong_2_cpus, 1000) { futex_ping_pong(run, 1); }

void note_partner(void* p) {
  auto* pp = static_cast<PingPong*>(p);
  for (uint64_t i = 0; i < pp->rounds; ++i) {
    pp->to_partner.sleep();
    pp->to_partner.clear();
    pp->to_us.wakeup();
  }
}

BENCH_N(sched, note_ping_pong_1_cpu, 1000) {
  ktest::PinTo pin(arch::CpuIndex(0));
  PingPong pp;
  pp.rounds = run.iterations();
  Thread* t = spawn_on(note_partner, &pp, 0, "note-partner");
  run.start();
  for (uint64_t i = 0; i < run.iterations(); ++i) {
    pp.to_partner.wakeup();
    pp.to_us.sleep();
    pp.to_us.clear();
  }
  run.stop();
  sched::join(t);
}

// ---- spawn, mutex, wake latency ---------------------------------------------

void empty_thread(void*) {}

BENCH_N(sched, spawn_join_empty_thread, 1000) {
  ktest::PinTo pin(arch::CpuIndex(0));
  run.start();
  for (uint64_t i = 0; i < run.iterations(); ++i) sched::join(spawn_on(empty_thread, nullptr, 0, "empty"));
  run.stop();
}

BENCH_N(sched, mutex_uncontended_lock_unlock, 100000) {
  static sched::Mutex m;
  run.start();
  for (uint64_t i = 0; i < run.iterations(); ++i) {
    m.lock();
    m.unlock();
  }
  run.stop();
}

struct WakeProbe {
  uint32_t word = 0;
  base::Atomic<uint64_t> woke_tsc{0};
  base::Atomic<uint32_t> ready{0};
};

void wake_target(void* p) {
  auto* w = static_cast<WakeProbe*>(p);
  for (;;) {
    w->ready.store(1, MemoryOrder::kRelease);
    while (__atomic_load_n(&w->word, __ATOMIC_ACQUIRE) == 0) (void)sched::futex_wait(&w->word, 0);
    uint64_t now = arch::rdtsc();
    if (__atomic_load_n(&w->word, __ATOMIC_ACQUIRE) == 2) return;
    __atomic_store_n(&w->word, 0, __ATOMIC_RELAXED);
    w->woke_tsc.store(now, MemoryOrder::kRelease);
  }
}

// From futex_wake on CPU 0 to the woken thread running on CPU 1 (idle,
// halted or spinning in its idle loop).
BENCH_N(sched, cross_cpu_wake_to_run, 200) {
  if (arch::cpus_online() < 2) {
    run.skip("needs two CPUs");
    return;
  }
  ktest::PinTo pin(arch::CpuIndex(0));
  WakeProbe w;
  Thread* t = spawn_on(wake_target, &w, 1, "wake-target");
  for (uint64_t i = 0; i < run.iterations(); ++i) {
    while (w.ready.load(MemoryOrder::kAcquire) == 0) arch::cpu_relax();
    // Let it sleep (and CPU 1 go idle) before the wake.
    sched::sleep_for(50'000);
    w.ready.store(0, MemoryOrder::kRelaxed);
    w.woke_tsc.store(0, MemoryOrder::kRelaxed);
    uint64_t t0 = arch::rdtsc();
    __atomic_store_n(&w.word, 1, __ATOMIC_RELEASE);
    (void)sched::futex_wake(&w.word, 1);
    uint64_t t1;
    while ((t1 = w.woke_tsc.load(MemoryOrder::kAcquire)) == 0) arch::cpu_relax();
    run.add_cycles(t1 - t0);
  }
  while (w.ready.load(MemoryOrder::kAcquire) == 0) arch::cpu_relax();
  __atomic_store_n(&w.word, 2, __ATOMIC_RELEASE);
  (void)sched::futex_wake(&w.word, 1);
  sched::join(t);
}

}  // namespace
}  // namespace sched
