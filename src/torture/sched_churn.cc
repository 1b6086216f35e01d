// See sched_churn.h. The workers and the hotplug thread, moved here from
// src/sched/sched_torture_ktest.cc when the torture became one run of
// every module at once.
#include "src/torture/sched_churn.h"

#include "src/arch/clock.h"
#include "src/arch/console.h"
#include "src/arch/percpu.h"
#include "src/arch/smp_boot.h"
#include "src/arch/x86.h"
#include "src/sched/cpu_offline.h"
#include "src/sched/futex.h"
#include "src/sched/sched.h"
#include "src/torture/churn_util.h"

namespace torture {
namespace {

using base::MemoryOrder;
using sched::Affinity;
using sched::Thread;
using Worker = SchedChurn::Worker;

// Bound to one of the first `ncpu` CPUs, at random.
Affinity random_cpu(uint64_t& rng, uint32_t ncpu) {
  return Affinity::only(arch::CpuIndex(static_cast<uint32_t>(below(rng, ncpu))));
}

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kUs = 1'000;
constexpr uint32_t kStop = 2;  // ping-pong word value that ends a pair

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
    if (below(w.rng, 8) == 0) sched::yield();
  }
}

void sleeper(Worker& w) {
  while (!w.t->stopping()) {
    if (below(w.rng, 2) == 0) {
      uint64_t ns = below(w.rng, 2 * kMs);
      uint64_t t0 = arch::nanotime();
      sched::sleep_for(ns);
      if (arch::nanotime() - t0 < ns) w.t->fail("sleep returned early");
    } else {
      uint64_t ns = 100 * kUs + below(w.rng, 2 * kMs);
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
    Affinity aff = below(w.rng, 3) == 0 ? Affinity::any() : random_cpu(w.rng, w.t->ncpu);
    if (!sched::set_affinity(me, aff).ok()) {
      // Refused only for a CPU that is offline or on its way.
      if (!w.t->hotplug_) w.t->fail("set_affinity refused an online CPU");
      aff = Affinity::any();
    }
    sched::yield();
    // Still bound there (taking a CPU offline unbinds its threads): then
    // it must be running there.
    const uint32_t now = cpu_now();
    if (!aff.is_any() && me->affinity.load(MemoryOrder::kAcquire) == aff && now != aff.cpu().value)
      w.t->fail("a pinned thread ran on another CPU");
    // Spin a little: pausing between rounds of work, not at every look
    // at the clock (under -icount each PAUSE hands the host over to
    // another vCPU).
    uint64_t until = arch::nanotime() + below(w.rng, 50 * kUs);
    while (arch::nanotime() < until) {
      burn(200);
      arch::cpu_relax();
    }
    w.progress.fetch_add(1, MemoryOrder::kRelaxed);
  }
  (void)sched::set_affinity(me, Affinity::any());
}

void short_lived_fn(void* p) {
  auto* t = static_cast<SchedChurn*>(p);
  if ((t->short_lived_.fetch_add(1, MemoryOrder::kRelaxed) & 3) == 3) sched::yield();
}

void short_lived_detached_fn(void* p) {
  short_lived_fn(p);
  static_cast<SchedChurn*>(p)->detached_.fetch_sub(1, MemoryOrder::kRelaxed);
}

// Spawns short-lived threads anywhere or on a chosen CPU, and joins them
// or detaches them (at most kMaxDetached in flight, so the threads alive
// at once stay bounded: the leak check compares thread descriptors).
void spawner(Worker& w) {
  SchedChurn& t = *w.t;
  while (!t.stopping()) {
    const Affinity aff = below(w.rng, 2) == 0 ? Affinity::any() : random_cpu(w.rng, t.ncpu);
    // Claim a detached slot first; give it back when not taken.
    bool detach = below(w.rng, 4) == 0;
    if (detach && t.detached_.fetch_add(1, MemoryOrder::kRelaxed) >= SchedChurn::kMaxDetached) {
      t.detached_.fetch_sub(1, MemoryOrder::kRelaxed);
      detach = false;
    }
    base::Result<Thread*> th =
        sched::spawn(detach ? short_lived_detached_fn : short_lived_fn, &t, {.name = "short", .affinity = aff});
    if (!th.ok() && detach) t.detached_.fetch_sub(1, MemoryOrder::kRelaxed);
    if (!th.ok() && t.hotplug_ && !aff.is_any() && th.error() == base::Error::kInvalidArgument) {
      w.progress.fetch_add(1, MemoryOrder::kRelaxed);  // refused: that CPU is (going) offline
      sched::yield();
      continue;
    }
    if (!th.ok()) {
      t.fail("spawn failed");
      return;
    }
    if (detach)
      sched::detach(th.value());
    else
      sched::join(th.value());
    w.progress.fetch_add(1, MemoryOrder::kRelaxed);
  }
}

// Cross-CPU wakes through a semaphore: one gives, the other takes.
void giver(Worker& w) {
  while (!w.t->stopping()) {
    w.t->handoff.release();
    w.progress.fetch_add(1, MemoryOrder::kRelaxed);
    if (w.t->handoff.value() > 64) sched::sleep_for(below(w.rng, 200 * kUs));
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
static_assert(sizeof(kRoles) / sizeof(kRoles[0]) == SchedChurn::kWorkers);

void run_worker(void* p) {
  auto* w = static_cast<Worker*>(p);
  kRoles[w->id](*w);
}

// Threads bound to CPU `cpu` (idle threads aside), and the first one's
// name, tid and state, for the report.
struct Bound {
  uint32_t cpu = 0;
  uint32_t n = 0;
  char name[Thread::kNameLen] = {};
  uint32_t tid = 0;
  uint32_t state = 0;
};

void count_bound(const Thread& th, void* arg) {
  auto* b = static_cast<Bound*>(arg);
  if (th.affinity.load(MemoryOrder::kRelaxed) != Affinity::only(arch::CpuIndex(b->cpu)) ||
      th.name == base::StrView("idle"))
    return;
  if (b->n++ == 0) {
    for (size_t i = 0; i < Thread::kNameLen; ++i) b->name[i] = th.name[i];
    b->tid = th.tid;
    b->state = th.state.load(MemoryOrder::kRelaxed);
  }
}

// Takes random CPUs (never CPU 0, which keeps the device interrupts)
// offline and back while the workers run; checks that an offline CPU
// keeps nothing queued and no thread bound to it.
void hotplug_fn(void* p) {
  auto* t = static_cast<SchedChurn*>(p);
  while (!t->stopping()) {
    uint32_t cpu = 1 + static_cast<uint32_t>(below(t->hotplug_rng, t->ncpu - 1));
    base::Result<size_t> r = sched::cpu_offline(arch::CpuIndex(cpu));
    if (!r.ok()) {
      t->fail("cpu_offline refused a CPU that was online");
      return;
    }
    // A waker that read a bound thread's affinity before the unpinning may
    // still queue it into the parked CPU's inbox; the CPU wakes and hands
    // it on (unpinned). So both checks wait for that, on what they can
    // see; the bound only turns a loss into a failure (generous: on host
    // time the parked vCPU may wait long for the host).
    auto settled = [&] {
      Bound b{.cpu = cpu};
      (void)sched::for_each_thread(count_bound, &b);
      return sched::cpu_stats(arch::CpuIndex(cpu)).queued == 0 && b.n == 0;
    };
    uint64_t give_up = arch::nanotime() + 10'000 * kMs;
    while (!settled() && arch::nanotime() < give_up) sched::sleep_for(100 * kUs);
    if (sched::cpu_stats(arch::CpuIndex(cpu)).queued != 0) t->fail("an offline CPU still has threads queued");
    Bound b{.cpu = cpu};
    (void)sched::for_each_thread(count_bound, &b);
    if (b.n != 0) {
      arch::kprint("torture: {} threads still bound to offline CPU {}, first '{}' (tid {}, {})\n", b.n, cpu,
                   static_cast<const char*>(b.name), b.tid,
                   sched::state_name(static_cast<sched::ThreadState>(b.state)));
      t->fail("a thread is still bound to an offline CPU");
    }
    sched::sleep_for(below(t->hotplug_rng, 20 * kMs));
    if (!sched::cpu_online(arch::CpuIndex(cpu)).ok()) {
      t->fail("cpu_online refused an offline CPU");
      return;
    }
    t->cycles_.fetch_add(1, MemoryOrder::kRelaxed);
    sched::sleep_for(below(t->hotplug_rng, 5 * kMs));
  }
}

}  // namespace

void SchedChurn::fail(const char* what) {
  if (failures_.fetch_add(1, MemoryOrder::kRelaxed) == 0) first_failure_ = what;
}

base::Status SchedChurn::start(bool hotplug, uint32_t window_s) {
  ncpu = arch::cpus_online();
  hotplug_ = hotplug && ncpu > 1;
  window_s_ = window_s;
  idle_violations_before_ = sched::idle_invariant_report().violations;
  if (hotplug_) {
    base::Result<Thread*> th = sched::spawn(hotplug_fn, this, {.name = "hotplug"});
    if (!th.ok()) return th.error();
    plugger_ = th.value();
  }
  for (int i = 0; i < kWorkers; ++i) {
    Worker& w = workers_[i];
    w.t = this;
    w.id = i;
    w.rng = 0x9e37'79b9'7f4a'7c15ull * (i + 1);
    base::Result<Thread*> th = sched::spawn(run_worker, &w, {.name = "torture"});
    if (!th.ok()) return th.error();  // the caller stops what did start
    w.thread = th.value();
  }
  return base::Status();
}

const char* SchedChurn::check_second() {
  ++second_;
  // The idle invariant, checked at every busy CPU's tick (sched.h): no
  // thread waited while a CPU nobody woke stayed halted.
  if (sched::idle_invariant_report().violations != idle_violations_before_) {
    fail("idle invariant broken: a CPU nobody woke stayed halted while a thread waited");
    return first_failure_;
  }
  for (Worker& w : workers_) {
    uint64_t p = w.progress.load(MemoryOrder::kRelaxed);
    w.stalled = p == w.seen ? w.stalled + 1 : 0;
    w.seen = p;
    if (w.stalled >= window_s_) {
      fail("a scheduler worker made no progress in a whole window (a lost wakeup?)");
      return first_failure_;
    }
  }
  return nullptr;
}

void SchedChurn::stop() {
  stop_.store(1, MemoryOrder::kRelease);
  for (uint32_t& word : ping_words) {
    __atomic_store_n(&word, kStop, __ATOMIC_RELEASE);
    (void)sched::futex_wake(&word, sched::kFutexAll);
  }
  for (Worker& w : workers_) {
    if (w.thread != nullptr) sched::join(w.thread);
    w.thread = nullptr;
  }
  if (plugger_ != nullptr) {
    sched::join(plugger_);
    plugger_ = nullptr;
    // Every CPU is back.
    for (uint32_t c = 0; c < ncpu; ++c) {
      if (!sched::cpu_takes_threads(arch::CpuIndex(c))) fail("a CPU stayed offline after the hotplug thread ended");
    }
  }
}

uint64_t SchedChurn::operations() const {
  uint64_t total = 0;
  for (const Worker& w : workers_) total += w.progress.load(MemoryOrder::kRelaxed);
  return total;
}

}  // namespace torture
