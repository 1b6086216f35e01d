// In-kernel tests of cpu_offline against what races with it: spawns pinned
// to the CPU leaving (the race that left threads bound to a parked CPU:
// thread.cc, new_descriptor), and timed waits whose timers it moves to
// CPU 0 while their owners cancel them (timer.cc, timer_cancel).
#include "src/arch/console.h"
#include "src/arch/smp_boot.h"
#include "src/base/atomic.h"
#include "src/base/placement_new.h"
#include "src/ktest/ktest.h"
#include "src/ktest/wait_until.h"
#include "src/sched/cpu_offline.h"
#include "src/sched/futex.h"
#include "src/sched/sched.h"
#include "src/sched/sched_cpu.h"
#include "src/sched/thread.h"

namespace sched {
namespace {

using base::MemoryOrder;

constexpr uint64_t kUs = 1'000;
// Offline/online rounds: each gives the spawners one window across both of
// cpu_offline's looks at the thread list.
constexpr int kRounds = 200;
constexpr int kSpawners = 2;

struct Race {
  uint32_t target = 0;
  base::Atomic<uint32_t> stop{0};
  base::Atomic<uint32_t> spawners_done{0};
  base::Atomic<uint64_t> spawned{0};
  base::Atomic<uint64_t> refused{0};
  base::Atomic<uint64_t> ran{0};
  base::Atomic<uint64_t> other_errors{0};
};

// The pinned thread: it blocks once while (possibly) bound, which is
// where a thread bound to a parked CPU used to stay for good.
void pinned_body(void* p) {
  sleep_for(20 * kUs);
  static_cast<Race*>(p)->ran.fetch_add(1, MemoryOrder::kRelaxed);
}

void spawner(void* p) {
  auto* r = static_cast<Race*>(p);
  while (r->stop.load(MemoryOrder::kAcquire) == 0) {
    base::Result<Thread*> t =
        spawn(pinned_body, r, {.name = "pinned", .affinity = sched::Affinity::only(arch::CpuIndex(r->target))});
    if (t.ok()) {
      r->spawned.fetch_add(1, MemoryOrder::kRelaxed);
      join(t.value());
    } else if (t.error() == base::Error::kInvalidArgument) {
      r->refused.fetch_add(1, MemoryOrder::kRelaxed);
      yield();
    } else {
      r->other_errors.fetch_add(1, MemoryOrder::kRelaxed);
      yield();
    }
  }
  r->spawners_done.fetch_add(1, MemoryOrder::kRelease);
}

struct Bound {
  uint32_t cpu;
  const Thread* idle;
  uint32_t n = 0;
  uint32_t first_tid = 0;
};

void count_bound(const Thread& t, void* p) {
  auto* b = static_cast<Bound*>(p);
  if (&t == b->idle || t.affinity.load(MemoryOrder::kAcquire) != Affinity::only(arch::CpuIndex(b->cpu))) return;
  if (b->n++ == 0) b->first_tid = t.tid;
}

// Spawners keep spawning threads pinned to one CPU while it goes offline
// and back. When cpu_offline returns, no thread may be bound to the CPU
// (a spawn either bound before the unpinning saw it, or was refused), and
// every thread spawned must run to its end (joins return).
KTEST(sched, pinned_spawns_racing_cpu_offline_leave_nothing_bound) {
  const uint32_t n = arch::cpus_online();
  // The spawners run anywhere (CPU 0 included): two CPUs are enough.
  if (n < 2) KTEST_SKIP("needs 2 CPUs (CPU 0 stays, another goes offline)");
  // Static: a spawner stuck in join (the failure) must not outlive it.
  static Race r;
  r.~Race();
  new (&r) Race();
  r.target = n - 1;
  Thread* spawners[kSpawners] = {};
  int started = 0;
  for (Thread*& s : spawners) {
    base::Result<Thread*> t = spawn(spawner, &r, {.name = "pin-spawner"});
    if (!t.ok()) break;
    s = t.value();
    ++started;
  }
  uint32_t bound_after = 0, first_tid = 0, refusals = 0;
  for (int i = 0; i < kRounds && started == kSpawners; ++i) {
    base::Result<size_t> off = cpu_offline(arch::CpuIndex(r.target));
    if (!off.ok()) {
      ++refusals;
      break;
    }
    Bound b{.cpu = r.target, .idle = sched_of(arch::CpuIndex(r.target)).idle};
    (void)for_each_thread(count_bound, &b);
    if (b.n != 0 && bound_after == 0) first_tid = b.first_tid;
    bound_after += b.n;
    sleep_for(100 * kUs);
    if (!cpu_online(arch::CpuIndex(r.target)).ok()) {
      ++refusals;
      break;
    }
    sleep_for(50 * kUs);
  }
  r.stop.store(1, MemoryOrder::kRelease);
  const bool ended =
      ktest::wait_until([&] { return r.spawners_done.load(MemoryOrder::kAcquire) == static_cast<uint32_t>(started); });
  // A lost pinned thread would hang its spawner's join: fail, don't hang.
  KASSERT_TRUE(ended);
  for (int i = 0; i < started; ++i) join(spawners[i]);
  KASSERT_EQ(started, kSpawners);
  KEXPECT_EQ(refusals, 0u);
  KEXPECT_EQ(bound_after, 0u);
  if (bound_after != 0) arch::kprint("first thread still bound after cpu_offline: tid {}\n", first_tid);
  KEXPECT_EQ(r.other_errors.load(MemoryOrder::kRelaxed), 0u);
  KEXPECT_EQ(r.ran.load(MemoryOrder::kRelaxed), r.spawned.load(MemoryOrder::kRelaxed));
  KEXPECT_GT(r.spawned.load(MemoryOrder::kRelaxed), 0u);
}

struct TimedWaits {
  uint32_t word = 0;  // never changes: every wait ends by a wake or a timeout
  base::Atomic<uint32_t> stop{0};
  base::Atomic<uint32_t> done{0};
  base::Atomic<uint64_t> waits{0};
};

// Timed futex waits: each arms a timer on the CPU it blocks on (its stack
// holds it) and cancels it when woken first.
void timed_waiter(void* p) {
  auto* w = static_cast<TimedWaits*>(p);
  while (w->stop.load(MemoryOrder::kAcquire) == 0) {
    (void)futex_wait(&w->word, 0, 200 * kUs);
    w->waits.fetch_add(1, MemoryOrder::kRelaxed);
  }
  w->done.fetch_add(1, MemoryOrder::kRelease);
}

// Wakes the waiters early, so that they cancel their timers (from wherever
// they run) while a CPU going offline may be moving them.
void early_waker(void* p) {
  auto* w = static_cast<TimedWaits*>(p);
  while (w->stop.load(MemoryOrder::kAcquire) == 0) {
    (void)futex_wake(&w->word, kFutexAll);
    sleep_for(20 * kUs);
  }
  w->done.fetch_add(1, MemoryOrder::kRelease);
}

// Waiters with stack timers on the CPU that goes offline and back: a
// cancel that took a migrating timer for fired left it linked into CPU 0's
// queue after its stack was gone (which panicked or corrupted the queue).
// Passing means no panic, every thread ends, and the CPU still comes back.
KTEST(sched, timed_waits_racing_cpu_offline_keep_the_timer_queues_whole) {
  const uint32_t n = arch::cpus_online();
  if (n < 2) KTEST_SKIP("needs 2 CPUs (CPU 0 stays, another goes offline)");
  constexpr int kWaiters = 3;
  static TimedWaits w;  // static: see pinned_spawns_racing_cpu_offline_leave_nothing_bound
  w.~TimedWaits();
  new (&w) TimedWaits();
  const uint32_t target = n - 1;
  Thread* threads[kWaiters + 1] = {};
  int started = 0;
  for (int i = 0; i < kWaiters + 1; ++i) {
    base::Result<Thread*> t = spawn(i == kWaiters ? early_waker : timed_waiter, &w, {.name = "timed-wait"});
    if (!t.ok()) break;
    threads[i] = t.value();
    ++started;
  }
  int refusals = 0;
  for (int i = 0; i < kRounds && started == kWaiters + 1; ++i) {
    if (!cpu_offline(arch::CpuIndex(target)).ok()) {
      ++refusals;
      break;
    }
    sleep_for(100 * kUs);
    if (!cpu_online(arch::CpuIndex(target)).ok()) {
      ++refusals;
      break;
    }
    sleep_for(300 * kUs);  // the waiters block on it again
  }
  w.stop.store(1, MemoryOrder::kRelease);
  (void)futex_wake(&w.word, kFutexAll);
  KASSERT_TRUE(ktest::wait_until([&] { return w.done.load(MemoryOrder::kAcquire) == static_cast<uint32_t>(started); }));
  for (int i = 0; i < started; ++i) join(threads[i]);
  KASSERT_EQ(started, kWaiters + 1);
  KEXPECT_EQ(refusals, 0);
  KEXPECT_GT(w.waits.load(MemoryOrder::kRelaxed), 0u);
}

}  // namespace
}  // namespace sched
