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
#include "src/arch/clock.h"
#include "src/arch/console.h"
#include "src/arch/percpu.h"
#include "src/arch/smp_boot.h"
#include "src/arch/x86.h"
#include "src/base/atomic.h"
#include "src/ktest/ktest.h"
#include "src/sched/cpu_offline.h"
#include "src/sched/futex.h"
#include "src/sched/sched.h"
#include "src/sched/sync.h"
#include "src/sched/thread.h"
#include "src/sched/timer.h"

namespace sched {
namespace {

using base::MemoryOrder;
using sched::Thread;

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kUs = 1'000;
constexpr int kSeconds = 10;
constexpr int kHotplugSeconds = 4;
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
  bool hotplug = false;  // CPUs go offline and back meanwhile (hotplug_fn)
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
      uint64_t t0 = arch::nanotime();
      sched::sleep_for(ns);
      if (arch::nanotime() - t0 < ns) w.t->fail("sleep returned early");
    } else {
      uint64_t ns = 100 * kUs + w.rng.below(2 * kMs);
      uint64_t t0 = arch::nanotime();
      int r = sched::futex_wait(&w.t->never_woken, 0, ns);
      if (r != -sched::kETIMEDOUT) w.t->fail("a futex nobody wakes did not time out");
      if (arch::nanotime() - t0 < ns) w.t->fail("a futex timeout came early");
    }
    w.progress.fetch_add(1, MemoryOrder::kRelaxed);
  }
}

void wanderer(Worker& w) {
  Thread* me = sched::current();
  while (!w.t->stopping()) {
    uint32_t cpu = w.rng.below(3) == 0 ? sched::kAnyCpu : static_cast<uint32_t>(w.rng.below(w.t->ncpu));
    if (!sched::set_affinity(me, cpu).ok()) {
      // Refused only for a CPU that is offline or on its way.
      if (!w.t->hotplug) w.t->fail("set_affinity refused an online CPU");
      cpu = sched::kAnyCpu;
    }
    sched::yield();
    // Still bound there (taking a CPU offline unbinds its threads): then
    // it must be running there.
    uint32_t now = cpu_now();
    if (cpu != sched::kAnyCpu && me->affinity.load(MemoryOrder::kAcquire) == cpu && now != cpu)
      w.t->fail("a pinned thread ran on another CPU");
    uint64_t until = arch::nanotime() + w.rng.below(50 * kUs);
    while (arch::nanotime() < until) arch::cpu_relax();
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
    if (!t.ok() && w.t->hotplug && cpu != sched::kAnyCpu && t.error() == base::Error::kInvalidArgument) {
      w.progress.fetch_add(1, MemoryOrder::kRelaxed);  // refused: that CPU is (going) offline
      sched::yield();
      continue;
    }
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

// Takes random CPUs (never CPU 0, which keeps the device interrupts)
// offline and back while the workers run; checks that an offline CPU
// keeps nothing queued and no thread bound to it, and that every CPU is
// back at the end.
struct Hotplug {
  Torture* t = nullptr;
  Rng rng{0x2545'f491'4f6c'dd1dull};
  base::Atomic<uint64_t> cycles{0};
};

void count_bound(const sched::Thread& th, void* arg) {
  auto* p = static_cast<uint32_t*>(arg);
  if (th.affinity.load(MemoryOrder::kRelaxed) == p[0] && th.name != base::StrView("idle")) ++p[1];
}

void hotplug_fn(void* p) {
  auto* h = static_cast<Hotplug*>(p);
  Torture* t = h->t;
  while (!t->stopping()) {
    uint32_t cpu = 1 + static_cast<uint32_t>(h->rng.below(t->ncpu - 1));
    base::Result<size_t> r = sched::cpu_offline(cpu);
    if (!r.ok()) {
      t->fail("cpu_offline refused a CPU that was online");
      return;
    }
    // A waker that read a bound thread's affinity before the unpinning may
    // still queue it into the parked CPU's inbox; the CPU wakes and hands
    // it on (unpinned). So both checks wait for that, boundedly: what
    // stays is lost.
    auto settled = [&] {
      uint32_t bound[2] = {cpu, 0};
      (void)sched::for_each_thread(count_bound, bound);
      return sched::cpu_stats(cpu).queued == 0 && bound[1] == 0;
    };
    uint64_t give_up = arch::nanotime() + 100 * kMs;
    while (!settled() && arch::nanotime() < give_up) sched::sleep_for(100 * kUs);
    if (sched::cpu_stats(cpu).queued != 0) t->fail("an offline CPU still has threads queued");
    uint32_t bound[2] = {cpu, 0};
    (void)sched::for_each_thread(count_bound, bound);
    if (bound[1] != 0) t->fail("a thread is still bound to an offline CPU");
    sched::sleep_for(h->rng.below(20 * kMs));
    if (!sched::cpu_online(cpu).ok()) {
      t->fail("cpu_online refused an offline CPU");
      return;
    }
    h->cycles.fetch_add(1, MemoryOrder::kRelaxed);
    sched::sleep_for(h->rng.below(5 * kMs));
  }
}

void torture(ktest::Context& ktest_ctx, int seconds, bool hotplug) {
  Torture t;
  t.ncpu = arch::cpus_online();
  t.hotplug = hotplug;
  Hotplug plug;
  plug.t = &t;
  Thread* plugger = nullptr;
  if (hotplug) {
    base::Result<Thread*> th = sched::spawn(hotplug_fn, &plug, {.name = "hotplug"});
    KASSERT_TRUE(th.ok());
    plugger = th.value();
  }
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
  for (int s = 0; s < seconds; ++s) {
    sched::sleep_for(1000 * kMs);
    // The idle invariant, checked at every busy CPU's tick (sched.h): no
    // thread waited while a CPU nobody woke stayed halted.
    sched::IdleInvariantReport idle = sched::idle_invariant_report();
    if (idle.violations != idle_violations_before) {
      ktest_ctx.fail(__FILE__, __LINE__,
                     "idle invariant broken in second {}: cpu {} halted while a thread on cpu {} waited {} us", s + 1,
                     idle.first_idle_cpu, idle.first_busy_cpu, idle.first_waited_ns / 1000);
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
  if (plugger != nullptr) {
    sched::join(plugger);
    KEXPECT_GT(plug.cycles.load(MemoryOrder::kRelaxed), 0u);
    for (uint32_t c = 0; c < t.ncpu; ++c) KEXPECT_TRUE(sched::cpu_takes_threads(c));
    arch::kprint("torture: {} offline/online cycles\n", plug.cycles.load(MemoryOrder::kRelaxed));
  }
  KEXPECT_EQ(t.failures.load(MemoryOrder::kRelaxed), 0u);
  if (t.first_failure != nullptr) arch::kprint("torture: first failure: {}\n", t.first_failure);
  uint64_t total = 0;
  for (Worker& w : workers) total += w.progress.load(MemoryOrder::kRelaxed);
  uint64_t switches = 0, steals = 0;
  for (uint32_t c = 0; c < t.ncpu; ++c) {
    switches += sched::cpu_stats(c).switches;
    steals += sched::cpu_stats(c).steals;
  }
  arch::kprint("torture: {} CPUs, {} operations, {} short-lived threads, {} switches, {} steals\n", t.ncpu, total,
               t.short_lived.load(MemoryOrder::kRelaxed), switches, steals);
}

KTEST(sched_torture, ten_seconds_of_everything) { torture(ktest_ctx, kSeconds, false); }

// The same with CPUs going offline and back at random (2+ CPUs; on one,
// the only CPU is the boot CPU, which is refused with its reason).
KTEST(sched_torture, cpus_offline_and_online_under_load) {
  if (arch::cpus_online() < 2) {
    KEXPECT_TRUE(sched::offline_refusal(0) != nullptr);
    KEXPECT_TRUE(!sched::cpu_offline(0).ok());
    return;
  }
  torture(ktest_ctx, kHotplugSeconds, true);
}

}  // namespace
}  // namespace sched
