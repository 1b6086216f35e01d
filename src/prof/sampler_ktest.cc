// In-kernel tests of what the NMI serves: the sampler's shares follow where
// time goes (from the periodic NMI and from the timer path), only the NMI
// sees code that runs with interrupts off, `bt`'s snapshot finds a CPU
// spinning with them off, and (xfail_, slow) the watchdog reports such a
// CPU by name.
#include "src/arch/clock.h"
#include "src/arch/console.h"
#include "src/arch/smp_boot.h"
#include "src/arch/x86.h"
#include "src/base/assert.h"
#include "src/ktest/ktest.h"
#include "src/ktest/pin_to.h"
#include "src/ktest/require.h"
#include "src/ktest/timing.h"
#include "src/ktest/wait_until.h"
#include "src/prof/cpu_prof.h"
#include "src/prof/kernel_symbols.h"
#include "src/prof/periodic_nmi.h"
#include "src/prof/pmu_sampler.h"
#include "src/prof/sampler.h"
#include "src/prof/snapshot.h"
#include "src/prof/watchdog.h"
#include "src/sched/cpu_offline.h"
#include "src/sched/sched.h"
#include "src/sched/thread.h"

// Workload functions with plain names (the boot tests match them in
// reports). noinline and different bodies: each must stay its own symbol.
// Each spins on a dependent chain of adds and pauses only between rounds
// of them: under -icount QEMU runs one vCPU at a time and a PAUSE hands
// over to the next, so pausing at every TSC read would spend the run
// switching vCPUs instead of executing this one.
#define PROF_KTEST_BURN(rounds)                                                            \
  do {                                                                                     \
    uint64_t x = 0;                                                                        \
    for (uint64_t i = 0; i < (rounds); ++i) asm volatile("add %1, %0" : "+r"(x) : "r"(i)); \
  } while (0)

extern "C" {
[[gnu::noinline]] void prof_ktest_busy_seventy(uint64_t until_tsc) {
  while (arch::rdtsc() < until_tsc) {
    PROF_KTEST_BURN(2000);
    arch::cpu_relax();
  }
}
[[gnu::noinline]] void prof_ktest_busy_thirty(uint64_t until_tsc) {
  while (arch::rdtsc() < until_tsc) {
    PROF_KTEST_BURN(3000);
    arch::cpu_relax();
  }
}
// Returns with interrupts still off: a tick held pending meanwhile is
// taken in the caller, after its STI, never in here.
[[gnu::noinline]] void prof_ktest_spin_with_interrupts_off(uint64_t until_tsc) {
  arch::cli();
  while (arch::rdtsc() < until_tsc) {
    PROF_KTEST_BURN(2000);
    arch::cpu_relax();
  }
}
// Says it spins from inside, once its frame is set up: an NMI the watcher
// sends on seeing `spinning` then always finds the frame-pointer chain
// through this function to its caller. (Set before the call, the flag let
// a snapshot on host time land in the caller or on this function's first
// instruction, before `push rbp`, and the unwinder skipped the caller:
// ktests_realtime_smp2 failed so once.)
[[gnu::noinline]] void prof_ktest_spin_until_released(base::Atomic<uint32_t>* spinning,
                                                      const base::Atomic<uint32_t>* release) {
  spinning->store(1, base::MemoryOrder::kRelease);
  while (release->load(base::MemoryOrder::kAcquire) == 0) arch::cpu_relax();
}
// Until the watchdog has reported (or the test gives up).
[[gnu::noinline]] void prof_ktest_stuck_with_interrupts_off(uint64_t reports_before, uint64_t give_up_tsc) {
  while (prof::watchdog_reports() == reports_before && arch::rdtsc() < give_up_tsc) arch::cpu_relax();
}
}

namespace {

using prof::SampleEvent;

uint64_t tsc_after_ms(uint64_t ms) { return arch::rdtsc() + ms * arch::tsc_hz() / 1000; }

bool in_function(uint64_t pc, void (*fn)(uint64_t)) {
  prof::SymbolRef s;
  return prof::symbolize(pc, &s) && s.start == reinterpret_cast<uint64_t>(fn);
}

// This thread's samples whose leaf lies in `fn`, and all of this thread's.
struct Count {
  uint64_t in_fn = 0, in_other_fn = 0, mine = 0;
};
Count count_mine(void (*fn)(uint64_t), void (*other)(uint64_t)) {
  const uint64_t tid = sched::current()->tid;
  Count c;
  prof::sampler_for_each([&](const prof::Sample& s) {
    if (s.header.tid != tid || s.n_pcs == 0) return;
    ++c.mine;
    if (in_function(s.pcs[0], fn)) ++c.in_fn;
    if (other != nullptr && in_function(s.pcs[0], other)) ++c.in_other_fn;
  });
  return c;
}

// Starts a profile of `event` at 1 kHz; false (the test then skips or has
// failed) when it cannot.
bool start(ktest::Context& ktest_ctx, SampleEvent event) {
  // The first start allocates a 1 MiB ring per CPU, each one contiguous
  // block: room for twice that beside the boot's own 8 MiB or so (12 MiB
  // for 2 CPUs is the smallest boot it was seen to pass on).
  if (ktest::skip_unless_memory(ktest_ctx, (uint64_t{8} << 20) + 2 * prof::prof_cpus() * sizeof(prof::CpuRing)))
    return false;
  base::Status s = prof::sampler_start(1000, event);
  if (!s.ok()) {
    ktest_ctx.fail(__FILE__, __LINE__, "sampler_start: {}", base::error_name(s.error()));
    return false;
  }
  return true;
}

// 70% of 400 ms in one function, 30% in the other, in short rounds so
// that no phase of the tick lines up with one of them.
void shares_follow_time(ktest::Context& ktest_ctx, SampleEvent event) {
  if (const char* why = prof::periodic_nmi_unavailable()) KTEST_SKIP("no periodic source: {}", why);
  if (!start(ktest_ctx, event)) return;
  for (int round = 0; round < 40; ++round) {
    prof_ktest_busy_seventy(tsc_after_ms(7));
    prof_ktest_busy_thirty(tsc_after_ms(3));
  }
  prof::sampler_stop();
  const Count c = count_mine(prof_ktest_busy_seventy, prof_ktest_busy_thirty);
  const uint64_t both = c.in_fn + c.in_other_fn;
  // About 400 samples at 1 kHz; fewer if the emulator lost ticks.
  KASSERT_TRUE(both >= 100);
  // Within 10 points of 70. On host time a round's phases are timed by the
  // TSC while the host may stall the vCPU in either, so within 20.
  const uint64_t seventy = c.in_fn * 100 / both;
  const uint64_t slack = ktest::exact_timing() ? 10 : 20;
  KEXPECT_GE(seventy, 70 - slack);
  KEXPECT_LE(seventy, 70 + slack);
}

KTEST(prof_sampler, shares_follow_time_from_the_periodic_nmi) { shares_follow_time(ktest_ctx, SampleEvent::kNmiTimer); }

KTEST(prof_sampler, shares_follow_time_from_the_timer_path) { shares_follow_time(ktest_ctx, SampleEvent::kTimer); }

// Cycles from the PMU's overflow NMI, where the CPU has one: the same
// shares. Where it has none (QEMU TCG), the refusal: kUnsupported, nothing
// started, and the periodic NMI sampler still starts after it.
KTEST(prof_sampler, cycles_from_the_pmu_or_refused_without_one) {
  if (prof::pmu_sampler_unavailable(prof::Event::kCycles) == nullptr) {
    shares_follow_time(ktest_ctx, SampleEvent::kCycles);
    return;
  }
  KEXPECT_TRUE(prof::sampler_start(1000, SampleEvent::kCycles).error() == base::Error::kUnsupported);
  KEXPECT_TRUE(!prof::sampler_status().running);
  KEXPECT_TRUE(!prof::sampler_stop());  // nothing to stop
  for (uint32_t cpu = 0; cpu < prof::prof_cpus(); ++cpu) KEXPECT_TRUE(!prof::cpu_prof(cpu)->pmu.armed());
  if (prof::periodic_nmi_unavailable() != nullptr) return;
  if (!start(ktest_ctx, SampleEvent::kNmiTimer)) return;
  KEXPECT_TRUE(prof::sampler_stop());
}

// CPU `cpu`'s samples stamped in [from_ns, to_ns).
uint64_t samples_of_cpu_between(uint32_t cpu, uint64_t from_ns, uint64_t to_ns) {
  uint64_t n = 0;
  prof::sampler_for_each([&](const prof::Sample& s) {
    if (s.header.cpu == cpu && s.header.timestamp >= from_ns && s.header.timestamp < to_ns) ++n;
  });
  return n;
}

uint64_t nmis_of(uint32_t cpu) {
  return __atomic_load_n(&arch::cpu_block(arch::CpuIndex(cpu)).nmis_received, __ATOMIC_ACQUIRE);
}

// CPU hotplug under a running profile (issue 13): a CPU taken offline is
// sent no ticks and takes no samples (it halts by design); back online, it
// is sampled again, and nothing was dropped or hung on the way. CPU 2
// (CPU 1 on two CPUs; CPU 0 never goes offline). From the periodic NMI,
// the CPU's NMI count stands still while it is away; the timer path
// stops the periodic NMI for its duration, so there it is not counted.
void offline_cpu_is_not_sampled(ktest::Context& ktest_ctx, SampleEvent event) {
  if (const char* why = prof::periodic_nmi_unavailable()) KTEST_SKIP("no periodic source: {}", why);
  const uint32_t cpus = sched::sched_cpus();
  if (cpus < 2) KTEST_SKIP("needs a second CPU to take offline");
  const uint32_t target = cpus >= 3 ? 2 : 1;
  if (const char* why = sched::offline_refusal(arch::CpuIndex(target)))
    KTEST_SKIP("cpu {} cannot go offline: {}", target, why);
  const bool nmi = event == SampleEvent::kNmiTimer;
  if (!start(ktest_ctx, event)) return;
  const prof::CpuRing& ring = *prof::cpu_prof(target)->ring;
  // Sampled while online (idle CPUs are sampled too).
  const uint64_t accepted_0 = ring.accepted();
  sched::sleep_for(50'000'000);
  const uint64_t accepted_1 = ring.accepted();

  base::Result<size_t> off = sched::cpu_offline(arch::CpuIndex(target));
  // An NMI the boot CPU sent just before the CPU parked may land after:
  // the window starts once that one is surely in.
  sched::sleep_for(5'000'000);
  const uint64_t from_ns = arch::nanotime();
  const uint64_t nmis_from = nmis_of(target);
  const uint64_t accepted_from = ring.accepted();
  sched::sleep_for(100'000'000);  // about 100 ticks of the profile
  const uint64_t nmis_to = nmis_of(target);
  const uint64_t accepted_to = ring.accepted();
  const uint64_t to_ns = arch::nanotime();
  // Back online before any check can end the test.
  const base::Status on = off.ok() ? sched::cpu_online(arch::CpuIndex(target)) : base::Status::Ok();
  sched::sleep_for(100'000'000);
  const uint64_t accepted_back = ring.accepted();
  const uint64_t nmis_back = nmis_of(target);
  KEXPECT_TRUE(prof::sampler_stop());
  KASSERT_TRUE(off.ok());
  KASSERT_TRUE(on.ok());

  KEXPECT_GT(accepted_1, accepted_0);
  if (nmi) KEXPECT_EQ(nmis_to, nmis_from);  // no NMI sent to the offline CPU
  KEXPECT_EQ(accepted_to, accepted_from);
  KEXPECT_EQ(samples_of_cpu_between(target, from_ns, to_ns), 0u);
  KEXPECT_GE(accepted_back - accepted_to, 10u);  // about 100 at 1 kHz
  if (nmi) KEXPECT_GT(nmis_back, nmis_to);
  KEXPECT_GE(samples_of_cpu_between(target, to_ns, arch::nanotime()), 10u);
  // Every tick that reached a CPU was a sample kept: none dropped.
  KEXPECT_EQ(prof::sampler_dropped(), 0u);
  // The other CPUs were sampled throughout.
  KEXPECT_GE(samples_of_cpu_between(0, from_ns, to_ns), 10u);
}

KTEST(prof_sampler, an_offline_cpu_is_not_sampled_and_is_again_once_back) {
  offline_cpu_is_not_sampled(ktest_ctx, SampleEvent::kNmiTimer);
}

KTEST(prof_sampler, an_offline_cpu_is_not_sampled_by_the_timer_path) {
  offline_cpu_is_not_sampled(ktest_ctx, SampleEvent::kTimer);
}

// 200 ms with interrupts off: the NMI samples land in the function, the
// timer path's all wait for the STI and land after it.
KTEST(prof_sampler, only_the_nmi_sees_code_with_interrupts_off) {
  if (const char* why = prof::periodic_nmi_unavailable()) KTEST_SKIP("no periodic source: {}", why);
  uint64_t seen[2] = {};
  const SampleEvent events[2] = {SampleEvent::kNmiTimer, SampleEvent::kTimer};
  for (int i = 0; i < 2; ++i) {
    if (!start(ktest_ctx, events[i])) return;
    prof_ktest_spin_with_interrupts_off(tsc_after_ms(200));
    arch::sti();
    prof::sampler_stop();
    seen[i] = count_mine(prof_ktest_spin_with_interrupts_off, nullptr).in_fn;
  }
  KEXPECT_GE(seen[0], 20u);  // about 200 at 1 kHz
  KEXPECT_EQ(seen[1], 0u);
}

struct Spinner {
  base::Atomic<uint32_t> spinning{0};
  base::Atomic<uint32_t> release{0};
  uint32_t tid = 0;
};

void spin_with_interrupts_off_until_released(void* arg) {
  auto* s = static_cast<Spinner*>(arg);
  s->tid = sched::current()->tid;
  arch::cli();
  prof_ktest_spin_until_released(&s->spinning, &s->release);
  arch::sti();
}

KTEST(prof_bt, snapshot_shows_a_cpu_spinning_with_interrupts_off) {
  const uint32_t cpus = sched::sched_cpus();
  if (cpus < 2) KTEST_SKIP("needs a second CPU");
  const uint32_t target = cpus - 1;
  // This thread must not be on the spinner's CPU: with that CPU's
  // interrupts off it would never run (or wake from a sleep) again to
  // release it. Seen on host time: the suite hung here, the watchdog
  // reporting the spinner's CPU stuck.
  ktest::PinTo pin{arch::CpuIndex(0)};
  Spinner s;
  base::Result<sched::Thread*> t =
      sched::spawn(spin_with_interrupts_off_until_released, &s,
                   {.name = "bt-spinner", .affinity = sched::Affinity::only(arch::CpuIndex(target))});
  KASSERT_TRUE(t.ok());
  KASSERT_TRUE(ktest::wait_until([&] { return s.spinning.load(base::MemoryOrder::kAcquire) != 0; }));
  const base::Status asked = prof::request_snapshot(target, ktest::kWaitBoundNs);
  const prof::CpuSnapshot snap = prof::cpu_prof(target)->snapshot;
  s.release.store(1, base::MemoryOrder::kRelease);
  sched::join(t.value());
  KASSERT_TRUE(asked.ok());
  KEXPECT_EQ(snap.frame.rflags & arch::kRflagsIf, 0u);
  KEXPECT_EQ(snap.tid, s.tid);
  prof::SymbolRef sym;
  KASSERT_TRUE(prof::symbolize(snap.pcs[0], &sym));
  KEXPECT_EQ(sym.start, reinterpret_cast<uint64_t>(prof_ktest_spin_until_released));
  // Its caller is the thread function, one return address up.
  KASSERT_TRUE(snap.n_pcs >= 2);
  KASSERT_TRUE(prof::symbolize_return_address(snap.pcs[1], &sym));
  KEXPECT_EQ(sym.start, reinterpret_cast<uint64_t>(spin_with_interrupts_off_until_released));
}

struct Stuck {
  uint64_t reports_before = 0;
  uint64_t give_up_tsc = 0;
};

void stay_stuck_until_reported(void* arg) {
  auto* s = static_cast<Stuck*>(arg);
  arch::cli();
  prof_ktest_stuck_with_interrupts_off(s->reports_before, s->give_up_tsc);
  arch::sti();
}

// Slow (the limit passes with a CPU stuck) and noisy (the report), so not
// in test=*: run by a boot test with watchdog=1, which checks that the
// report names the function the CPU is stuck in.
KTEST(xfail_prof, watchdog_reports_a_cpu_stuck_with_interrupts_off) {
  const uint32_t cpus = sched::sched_cpus();
  if (cpus < 2) KTEST_SKIP("needs a second CPU (the first runs this test)");
  if (prof::watchdog_seconds() == 0) KTEST_SKIP("the watchdog is off (boot with watchdog=1)");
  Stuck s;
  s.reports_before = prof::watchdog_reports();
  // Four limits: the report comes after one, plus an NMI period.
  s.give_up_tsc = arch::rdtsc() + 4 * uint64_t{prof::watchdog_seconds()} * arch::tsc_hz();
  base::Result<sched::Thread*> t = sched::spawn(
      stay_stuck_until_reported, &s, {.name = "stuck", .affinity = sched::Affinity::only(arch::CpuIndex(cpus - 1))});
  KASSERT_TRUE(t.ok());
  sched::join(t.value());
  KEXPECT_GT(prof::watchdog_reports(), s.reports_before);
}

}  // namespace

namespace {

base::Atomic<uint32_t> console_held{0};

void hold_the_console_forever(void*) {
  arch::console_lock();  // interrupts off from here on, and never given back
  console_held.store(1, base::MemoryOrder::kRelease);
  for (;;) arch::cpu_relax();
}

// A panic while another CPU holds the console (and will never let go):
// the report still comes out, that CPU stopped and shown like the others.
KTEST(xfail_prof, panic_while_another_cpu_holds_the_console) {
  const uint32_t cpus = sched::sched_cpus();
  if (cpus < 2) KTEST_SKIP("needs a second CPU");
  ktest::PinTo pin{arch::CpuIndex(0)};  // off the hog's CPU, which never runs anything else again
  base::Result<sched::Thread*> t =
      sched::spawn(hold_the_console_forever, nullptr,
                   {.name = "console-hog", .affinity = sched::Affinity::only(arch::CpuIndex(cpus - 1))});
  KASSERT_TRUE(t.ok());
  KASSERT_TRUE(ktest::wait_until([] { return console_held.load(base::MemoryOrder::kAcquire) != 0; }));
  PANIC("on purpose, with cpu {} holding the console", cpus - 1);
}

}  // namespace
