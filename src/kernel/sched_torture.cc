// The scheduler torture run: ten seconds of every scheduling path at once
// — spawn/exit/join/detach, yield, futex ping-pong, sleeps and futex
// timeouts, cross-CPU wakes, random affinity changes — with its invariants
// checked as it goes:
//  - every worker makes progress in every one-second window;
//  - no wakeup is lost (a ping-pong pair whose wake was lost stops, which
//    the progress check sees; its waits have no timeout to mask it);
//  - a timed wait returns ETIMEDOUT no earlier than its timeout;
//  - a thread pinned to a CPU runs there;
//  - every join returns (the run ends by joining everything);
//  - no thread runs on two CPUs (switch_to's claim of Thread::on_cpu panics).
//  - the idle invariant: no thread waits four quanta while a CPU nobody
//    woke stays halted (checked by the scheduler at every busy tick).
// Suite `sched_torture`, run by its own boot tests (1, 2, 4 and 8 CPUs).
#include "src/arch/percpu.h"
#include "src/arch/x86.h"
#include "src/base/atomic.h"
#include "src/kernel/console.h"
#include "src/kernel/cpus.h"
#include "src/kernel/ktest.h"
#include "src/sched/futex.h"
#include "src/sched/sched.h"
#include "src/sched/sync.h"
#include "src/sched/thread.h"
#include "src/sched/timer.h"

namespace kernel {
namespace {

using base::MemoryOrder;
using sched::Thread;

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kUs = 1'000;
constexpr int kSeconds = 10;
constexpr uint32_t kStop = 2;  // ping-pong word value that ends a pair

struct Rng {
  uint64_t s;
  uint64_t next() {  // xorshift64
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  uint64_t below(uint64_t n) { return next() % n; }
};

uint32_t cpu_now() {
  uint64_t f = arch::irq_save();
  uint32_t i = arch::this_cpu().index;
  arch::irq_restore(f);
  return i;
}

struct Torture;

struct Worker {
  Torture* t = nullptr;
  int id = 0;
  Rng rng{0};
  base::Atomic<uint64_t> progress{0};
  Thread* thread = nullptr;
};

struct Torture {
  base::Atomic<uint32_t> stop{0};
  base::Atomic<uint32_t> failures{0};
  uint32_t ping_words[2] = {0, 0};  // one per ping-pong pair
  uint32_t never_woken = 0;
  sched::Semaphore handoff{0};
  base::Atomic<uint32_t> short_lived{0};
  uint32_t ncpu = 1;
  const char* first_failure = nullptr;

  void fail(const char* what) {
    if (failures.fetch_add(1, MemoryOrder::kRelaxed) == 0) first_failure = what;
  }
  bool stopping() const { return stop.load(MemoryOrder::kRelaxed) != 0; }
};

// Ping (even id) and pong (odd id) of pair id / 2: the word says whose turn.
void ping_pong(Worker& w) {
  uint32_t* word = &w.t->ping_words[w.id / 2];
  uint32_t mine = w.id % 2;  // ping waits for 0, pong for 1
  for (;;) {
    uint32_t v = __atomic_load_n(word, __ATOMIC_ACQUIRE);
    if (v == kStop) return;
    if (v != mine) {
      (void)sched::futex_wait(word, v);
      continue;
    }
    uint32_t expected = mine;
    if (!__atomic_compare_exchange_n(word, &expected, 1 - mine, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) continue;
    (void)sched::futex_wake(word, 1);
    w.progress.fetch_add(1, MemoryOrder::kRelaxed);
    if (w.rng.below(8) == 0) sched::yield();
  }
}

void sleeper(Worker& w) {
  while (!w.t->stopping()) {
    if (w.rng.below(2) == 0) {
      uint64_t ns = w.rng.below(2 * kMs);
      uint64_t t0 = sched::nanotime();
      sched::sleep_for(ns);
      if (sched::nanotime() - t0 < ns) w.t->fail("sleep returned early");
    } else {
      uint64_t ns = 100 * kUs + w.rng.below(2 * kMs);
      uint64_t t0 = sched::nanotime();
      int r = sched::futex_wait(&w.t->never_woken, 0, ns);
      if (r != -sched::kETIMEDOUT) w.t->fail("a futex nobody wakes did not time out");
      if (sched::nanotime() - t0 < ns) w.t->fail("a futex timeout came early");
    }
    w.progress.fetch_add(1, MemoryOrder::kRelaxed);
  }
}

void wanderer(Worker& w) {
  Thread* me = sched::current();
  while (!w.t->stopping()) {
    uint32_t cpu = w.rng.below(3) == 0 ? sched::kAnyCpu : static_cast<uint32_t>(w.rng.below(w.t->ncpu));
    if (!sched::set_affinity(me, cpu).ok()) w.t->fail("set_affinity refused an online CPU");
    sched::yield();
    if (cpu != sched::kAnyCpu && cpu_now() != cpu) w.t->fail("a pinned thread ran on another CPU");
    uint64_t until = sched::nanotime() + w.rng.below(50 * kUs);
    while (sched::nanotime() < until) arch::cpu_relax();
    w.progress.fetch_add(1, MemoryOrder::kRelaxed);
  }
  (void)sched::set_affinity(me, sched::kAnyCpu);
}

void short_lived_fn(void* p) {
  auto* t = static_cast<Torture*>(p);
  t->short_lived.fetch_add(1, MemoryOrder::kRelaxed);
  if ((t->short_lived.load(MemoryOrder::kRelaxed) & 3) == 0) sched::yield();
}

void spawner(Worker& w) {
  while (!w.t->stopping()) {
    uint32_t cpu = w.rng.below(2) == 0 ? sched::kAnyCpu : static_cast<uint32_t>(w.rng.below(w.t->ncpu));
    base::Result<Thread*> t = sched::spawn(short_lived_fn, w.t, {.name = "short", .cpu = cpu});
    if (!t.ok()) {
      w.t->fail("spawn failed");
      return;
    }
    if (w.rng.below(4) == 0)
      sched::detach(t.value());
    else
      sched::join(t.value());
    w.progress.fetch_add(1, MemoryOrder::kRelaxed);
  }
}

// Cross-CPU wakes through a semaphore: one gives, the other takes.
void giver(Worker& w) {
  while (!w.t->stopping()) {
    w.t->handoff.release();
    w.progress.fetch_add(1, MemoryOrder::kRelaxed);
    if (w.t->handoff.value() > 64) sched::sleep_for(w.rng.below(200 * kUs));
  }
  w.t->handoff.release(1000);  // let the taker out
}
void taker(Worker& w) {
  while (!w.t->stopping()) {
    if (w.t->handoff.try_acquire_for(100 * kMs)) w.progress.fetch_add(1, MemoryOrder::kRelaxed);
  }
}

using Role = void (*)(Worker&);
constexpr Role kRoles[] = {ping_pong, ping_pong, ping_pong, ping_pong, sleeper, sleeper,
                           wanderer,  wanderer,  spawner,   spawner,   giver,   taker};
constexpr int kWorkers = sizeof(kRoles) / sizeof(kRoles[0]);

void run_worker(void* p) {
  auto* w = static_cast<Worker*>(p);
  kRoles[w->id](*w);
}

KTEST(sched_torture, ten_seconds_of_everything) {
  Torture t;
  t.ncpu = cpus_online();
  Worker workers[kWorkers];
  for (int i = 0; i < kWorkers; ++i) {
    workers[i].t = &t;
    workers[i].id = i;
    workers[i].rng.s = 0x9e37'79b9'7f4a'7c15ull * (i + 1);
    base::Result<Thread*> th = sched::spawn(run_worker, &workers[i], {.name = "torture"});
    KASSERT_TRUE(th.ok());
    workers[i].thread = th.value();
  }
  uint64_t last[kWorkers] = {};
  const uint64_t idle_violations_before = sched::idle_invariant_report().violations;
  for (int s = 0; s < kSeconds; ++s) {
    sched::sleep_for(1000 * kMs);
    // The idle invariant, checked at every busy CPU's tick (sched.h): no
    // thread waited while a CPU nobody woke stayed halted.
    sched::IdleInvariantReport idle = sched::idle_invariant_report();
    if (idle.violations != idle_violations_before) {
      ktest_ctx.fail(__FILE__, __LINE__,
                     "idle invariant broken in second {}: cpu {} halted while a thread on cpu {} waited {} us", s + 1, idle.first_idle_cpu, idle.first_busy_cpu, idle.first_waited_ns / 1000);
      break;
    }
    for (int i = 0; i < kWorkers; ++i) {
      uint64_t p = workers[i].progress.load(MemoryOrder::kRelaxed);
      if (p == last[i]) {
        ktest_ctx.fail(__FILE__, __LINE__, "worker {} made no progress in second {}", i, s + 1);
      }
      last[i] = p;
    }
  }
  t.stop.store(1, MemoryOrder::kRelease);
  for (uint32_t& word : t.ping_words) {
    __atomic_store_n(&word, kStop, __ATOMIC_RELEASE);
    (void)sched::futex_wake(&word, sched::kFutexAll);
  }
  for (Worker& w : workers) sched::join(w.thread);
  KEXPECT_EQ(t.failures.load(MemoryOrder::kRelaxed), 0u);
  if (t.first_failure != nullptr) kprint("torture: first failure: {}\n", t.first_failure);
  uint64_t total = 0;
  for (Worker& w : workers) total += w.progress.load(MemoryOrder::kRelaxed);
  uint64_t switches = 0, steals = 0;
  for (uint32_t c = 0; c < t.ncpu; ++c) {
    switches += sched::cpu_stats(c).switches;
    steals += sched::cpu_stats(c).steals;
  }
  kprint("torture: {} CPUs, {} operations, {} short-lived threads, {} switches, {} steals\n", t.ncpu, total,
         t.short_lived.load(MemoryOrder::kRelaxed), switches, steals);
}

}  // namespace
}  // namespace kernel
