// The idle loop's hand-offs under a hammer (scheduler.cc, top): a wake must
// reach an idle CPU whatever phase of its idle loop it is in — spinning,
// polling with its idle bit set (no IPI is sent then), between the end of
// its poll and HLT (where it decides on its own queues' emptiness, read
// while the waker pushes), or halted. Each round waits a different time
// before the wake, swept across the poll window and past it, so that the
// wakes land in every phase; a lost wake-up leaves the target asleep and
// fails the round.
#include "src/arch/clock.h"
#include "src/arch/percpu.h"
#include "src/arch/smp_boot.h"
#include "src/arch/x86.h"
#include "src/base/atomic.h"
#include "src/ktest/ktest.h"
#include "src/ktest/pin_to.h"
#include "src/sched/futex.h"
#include "src/sched/sched.h"
#include "src/sched/thread.h"

namespace sched {
namespace {

using base::MemoryOrder;

constexpr uint32_t kRounds = 1500;
constexpr uint32_t kStop = ~uint32_t{0};
// Past the longest poll window (scheduler.cc: 200 us at most).
constexpr uint64_t kMaxDelayNs = 300'000;
// Far beyond any hand-off; only a lost wake-up takes longer (then the
// target sleeps for good).
constexpr uint64_t kBoundNs = 200'000'000;

// A delay for round `i`: half of the rounds within 2 us of the wake before
// (the target is still spinning or just starting to poll), the rest spread
// up to kMaxDelayNs (the end of its poll, and halted).
uint64_t delay_for(uint32_t i, uint64_t& rng) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (i & 1) != 0 ? rng % 2'000 : rng % kMaxDelayNs;
}

// Busy, so that this CPU never idles itself; PAUSE lets the other vCPU run
// under -icount.
void busy_for(uint64_t ns) {
  uint64_t t0 = arch::nanotime();
  while (arch::nanotime() - t0 < ns) arch::cpu_relax();
}

template <typename Cond>
bool spin_until(Cond&& cond) {
  uint64_t t0 = arch::nanotime();
  while (!cond()) {
    if (arch::nanotime() - t0 > kBoundNs) return cond();
    arch::cpu_relax();
  }
  return true;
}

struct Target {
  uint32_t word = 0;  // the round released so far, or kStop
  base::Atomic<uint32_t> seen{0};
};

void target_fn(void* p) {
  auto* t = static_cast<Target*>(p);
  for (uint32_t round = 1;; ++round) {
    uint32_t v;
    while ((v = __atomic_load_n(&t->word, __ATOMIC_ACQUIRE)) == round - 1) (void)futex_wait(&t->word, round - 1);
    if (v == kStop) return;
    t->seen.store(round, MemoryOrder::kRelease);
  }
}

// A thread bound to the idle CPU: the waker fills its inbox and sends an
// IPI only if it is not polling.
KTEST(sched_idle, a_bound_wake_reaches_the_idle_cpu_in_every_phase) {
  if (arch::cpus_online() < 2) KTEST_SKIP("needs 2 CPUs (one to idle)");
  ktest::PinTo pin(arch::CpuIndex(0));
  Target t;
  base::Result<Thread*> th =
      spawn(target_fn, &t, {.name = "idle-target", .affinity = sched::Affinity::only(arch::CpuIndex(1))});
  KASSERT_TRUE(th.ok());
  uint64_t rng = 0x9e3779b97f4a7c15ull;
  for (uint32_t round = 1; round <= kRounds; ++round) {
    uint64_t delay = delay_for(round, rng);
    busy_for(delay);
    __atomic_store_n(&t.word, round, __ATOMIC_RELEASE);
    (void)futex_wake(&t.word, 1);
    if (!spin_until([&] { return t.seen.load(MemoryOrder::kAcquire) == round; })) {
      ktest_ctx.fail(__FILE__, __LINE__, "round {} of {} ({} ns after the last): the wake was lost", round, kRounds,
                     delay);
      break;
    }
  }
  __atomic_store_n(&t.word, kStop, __ATOMIC_RELEASE);
  (void)futex_wake(&t.word, 1);
  join(th.value());
}

struct Stray {
  base::Atomic<uint32_t> ran{0};
  base::Atomic<uint32_t> cpu{0};
};

void stray_fn(void* p) {
  auto* s = static_cast<Stray*>(p);
  s->cpu.store(arch::this_cpu().index.value, MemoryOrder::kRelaxed);
  s->ran.store(1, MemoryOrder::kRelease);
}

// Stealable work queued by a CPU that then stays busy with preemption off:
// only an idle CPU can run it, so wakep's kick (a cleared idle bit, and no
// IPI if the CPU polls) must reach one in whatever phase it is.
KTEST(sched_idle, stealable_work_reaches_an_idle_cpu_while_its_queuer_stays_busy) {
  if (arch::cpus_online() < 2) KTEST_SKIP("needs 2 CPUs (one to idle)");
  ktest::PinTo pin(arch::CpuIndex(0));
  uint64_t rng = 0x2545f4914f6cdd1dull;
  constexpr uint32_t kSpawns = 300;
  for (uint32_t i = 0; i < kSpawns; ++i) {
    uint64_t delay = delay_for(i, rng);
    busy_for(delay);
    Stray s;
    preempt_disable();  // the thread cannot run here before we look
    base::Result<Thread*> th = spawn(stray_fn, &s, {.name = "stray"});
    bool ran = th.ok() && spin_until([&] { return s.ran.load(MemoryOrder::kAcquire) != 0; });
    preempt_enable();
    KASSERT_TRUE(th.ok());
    if (!ran) {
      ktest_ctx.fail(__FILE__, __LINE__, "spawn {} of {} ({} ns after the last): no idle CPU took it", i, kSpawns,
                     delay);
      join(th.value());
      break;
    }
    KEXPECT_NE(s.cpu.load(MemoryOrder::kRelaxed), 0u);
    join(th.value());
  }
}

}  // namespace
}  // namespace sched
