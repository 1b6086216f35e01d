// The combined torture (issue 16, item 4): the scheduler's churn (sched_
// churn.h), memory churn with map/unmap shootdowns (mm_churn.h),
// reservations under a squeeze (rt_squeeze.h) and a 10 kHz profile from
// the periodic NMI, all at once for `torture.seconds` (default 10). Once
// a second the scheduler's invariants are checked, and the memory and
// reservation workers are parked at a gate so that rt's accounting sum can
// be checked exact, no reservation be outstanding and mm's counters sane.
// After the load stops: every sample well-formed (drops counted), and free
// pages, live heap objects per class, reservations, rt credit and budget,
// thread descriptors and the thread count back at their baselines.
// Every check is an invariant, not a time bound, so it holds on host time
// on a loaded host as under -icount (the progress window is one second
// under exact timing, five on host time). Suite `torture`, run by its own
// boot tests (1, 2, 4 and 8 CPUs) and //test:torture_long.
#include "src/arch/clock.h"
#include "src/arch/console.h"
#include "src/arch/smp_boot.h"
#include "src/arch/spinlock.h"
#include "src/base/atomic.h"
#include "src/base/placement_new.h"
#include "src/ktest/boot_cmdline.h"
#include "src/ktest/ktest.h"
#include "src/ktest/timing.h"
#include "src/ktest/wait_until.h"
#include "src/mm/heap_size_classes.h"
#include "src/mm/kmalloc.h"
#include "src/mm/page_alloc.h"
#include "src/monitor/boot_options.h"
#include "src/prof/periodic_nmi.h"
#include "src/prof/sampler.h"
#include "src/prof/snapshot.h"
#include "src/rt/reserve.h"
#include "src/rt/reserve_stats.h"
#include "src/sched/sched.h"
#include "src/sched/thread.h"
#include "src/torture/gate.h"
#include "src/torture/mm_churn.h"
#include "src/torture/rt_squeeze.h"
#include "src/torture/sample_check.h"
#include "src/torture/sched_churn.h"

extern "C" char __text_start[], __text_end[];

namespace torture {
namespace {

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kDefaultSeconds = 10;
constexpr uint32_t kProfileHz = 10'000;
// More threads than the load ever has alive at once (workers, hotplug,
// joined and detached short-lived ones): spawned together before the
// baseline, they leave enough descriptors and cached stacks that the run
// makes none (descriptors are never freed, so a new one would read as a
// leak).
constexpr uint32_t kWarmThreads = 96;
// Generous bounds on waits for observable state (a loaded host may hold a
// vCPU off for a long time); they only turn a hang into a failure.
constexpr uint64_t kGateBoundNs = 10'000 * kMs;
// A gate still open after this long is reported (what each missing worker
// does), and waited for on up to kGateBoundNs: a slow close is evidence
// even in a run that passes.
constexpr uint64_t kGateSlowNs = 2'000 * kMs;

uint64_t seconds_to_run() {
  base::Result<uint64_t> v = monitor::boot_option_uint(ktest::boot_cmdline(), "torture.seconds");
  return v.ok() ? v.value() : kDefaultSeconds;  // a bad value was named at boot
}

void nothing(void*) {}

// Spawns kWarmThreads at once and joins them.
bool warm_threads() {
  static sched::Thread* threads[kWarmThreads];
  bool ok = true;
  for (auto& t : threads) {
    base::Result<sched::Thread*> r = sched::spawn(nothing, nullptr, {.name = "warm"});
    t = r.ok() ? r.value() : nullptr;
    ok = ok && r.ok();
  }
  for (auto& t : threads) {
    if (t != nullptr) sched::join(t);
  }
  return ok;
}

// What must come back once the load stops (as fail_inject measures it).
struct Levels {
  uint64_t pages;  // free (cached included) plus what the heap holds
  uint64_t live[mm::kHeapNumClasses];
  uint64_t live_objects;  // small, large and huge
  uint64_t descriptors;
  uint64_t threads;
  uint64_t reservations;
  uint64_t credit;  // rt credit on all CPUs, in objects
  int64_t budget;
  bool exact;
};

Levels measure() {
  rt::internal::drain_all_cpus();
  Levels l{};
  const mm::KernelHeapStats h = mm::heap_stats();
  l.pages = mm::page_alloc_stats().phys.free_pages + h.heap.pages_held;
  for (unsigned cls = 0; cls < mm::kHeapNumClasses; ++cls) l.live[cls] = h.heap.classes[cls].live_objects;
  l.live_objects = h.heap.small_live_objects + h.heap.large_live_objects + h.huge_live_objects;
  l.descriptors = sched::thread_descriptors();
  l.threads = sched::thread_count();
  const rt::ResSnapshot s = rt::res_snapshot();
  l.reservations = s.reservations;
  for (unsigned cls = 0; cls < rt::kObjsClasses; ++cls) l.credit += s.cpu_credit[cls];
  l.budget = s.budget_bytes;
  l.exact = s.accounted_bytes() == s.max_bytes;
  return l;
}

// The checks made with the memory and reservation workers parked: rt's
// sum exact (other threads — the scheduler's churn — may allocate
// outside reservations meanwhile, so it is read until it holds, bounded),
// no reservation outstanding, mm's counters consistent. Null or what broke.
const char* check_parked() {
  rt::ResSnapshot s{};
  const bool exact = ktest::wait_until(
      [&] {
        s = rt::res_snapshot();
        return s.accounted_bytes() == s.max_bytes;
      },
      kGateBoundNs, 200'000);
  if (!exact) {
    arch::kprint("torture: accounting {} of max {}\n", s.accounted_bytes(), s.max_bytes);
    return "rt's accounting does not add up to the heap's maximum";
  }
  if (s.reservations != 0) return "a reservation is outstanding with every reserver parked";
  const mm::PageAllocStats p = mm::page_alloc_stats();
  if (p.phys.free_pages > p.phys.total_pages) return "mm: more pages free than managed";
  if (p.cached_pages > p.phys.free_pages) return "mm: more pages cached than free";
  if (p.phys.quarantined_pages != 0 || p.phys.poison_failures != 0) return "mm: a poison failure";
  const mm::KernelHeapStats h = mm::heap_stats();
  if (h.heap.pages_held > p.phys.total_pages - p.phys.free_pages) return "mm: the heap holds more pages than are used";
  if (h.heap.span_pages > h.heap.pages_held) return "mm: the heap's spans exceed the pages it holds";
  if (h.heap.quarantined != 0) return "mm: a heap object was quarantined";
  return nullptr;
}

// Who holds one of sched's locks, for the report of workers that did not
// park (the CPUs' backtraces show who spins for it).
void print_lock(const char* what, sched::LockHint h) {
  if (h.holder == arch::SpinLock::kNoHolder)
    arch::kprint("torture: {}: free, {} CPUs waiting\n", what, h.waiters);
  else
    arch::kprint("torture: {}: held by cpu {}, {} CPUs waiting\n", what, h.holder, h.waiters);
}

// Where each CPU in `cpus` is, by NMI (as `bt` shows it).
void print_running(uint64_t cpus);

// Who is missing at the gate, what each does and (off a CPU) where it
// waits, with the backtraces of the CPUs running one; the locks everyone
// takes; then, with `all_cpus`, every CPU: what a stuck worker waits for
// (a lock's holder) may run anywhere.
void report_gate(const GatedWorkers& mm, const GatedWorkers& rt, bool all_cpus) {
  const uint64_t running = mm.report_unparked() | rt.report_unparked();
  print_lock("thread-list lock", sched::thread_list_lock_hint());
  print_lock("thread descriptor and stack lock", sched::thread_pool_lock_hint());
  print_running(running);
  if (all_cpus) {
    const uint32_t ncpu = arch::cpus_online();
    print_running((ncpu >= 64 ? ~uint64_t{0} : (uint64_t{1} << ncpu) - 1) & ~running);
  }
}

// Where each CPU in `cpus` is, by NMI (as `bt` shows it).
void print_running(uint64_t cpus) {
  for (uint32_t cpu = 0; cpu < 64; ++cpu) {
    if ((cpus >> cpu & 1) == 0 || !prof::request_snapshot(cpu, 1'000 * kMs).ok()) continue;
    arch::console_lock();
    prof::print_snapshot(arch::console_sink(), cpu, prof::cpu_prof(cpu)->snapshot);
    arch::console_unlock();
  }
}

struct Profile {
  bool owned = false;  // started here (else one already ran, or none can)
  const char* unavailable = nullptr;
  uint64_t start = 0, end = 0;
};

KTEST(torture, everything_at_once) {
  const uint64_t seconds = seconds_to_run();
  const uint32_t ncpu = arch::cpus_online();
  // Static (a few KiB: not on the test thread's stack), made fresh for
  // each run (a boot may run the suite twice).
  static SchedChurn sched_churn;
  static MmChurn mm_churn;
  static RtSqueeze squeeze;
  static Gate gate;
  new (&sched_churn) SchedChurn();
  new (&mm_churn) MmChurn();
  new (&squeeze) RtSqueeze();

  // The profile first: its rings (allocated at a first start, kept after)
  // belong to the baseline.
  Profile prof_run;
  prof_run.unavailable = prof::periodic_nmi_unavailable();
  prof_run.start = arch::nanotime();
  if (prof_run.unavailable == nullptr) {
    const base::Status s = prof::sampler_start(kProfileHz, prof::SampleEvent::kNmiTimer);
    if (s.ok()) {
      prof_run.owned = true;
    } else if (s.error() == base::Error::kBusy) {
      prof_run.unavailable = "a profile already runs (prof.start?)";
    } else {
      KEXPECT_TRUE(s.ok());
      prof_run.unavailable = base::error_name(s.error());
    }
  }

  // Warm up: thread descriptors and cached stacks, then a short run of the
  // memory and reservation load (heap spans, page tables of the map
  // slots, futex buckets), so the baseline already holds what the load
  // keeps for reuse. A start that fails stops what did start before the
  // test ends, so no worker outlives it.
  const bool warm = warm_threads() && mm_churn.setup().ok() && mm_churn.start(&gate).ok() && squeeze.start(&gate).ok();
  if (warm) sched::sleep_for(200 * kMs);
  mm_churn.stop();
  squeeze.stop();
  if (!warm) {
    if (prof_run.owned) (void)prof::sampler_stop();
    mm_churn.teardown();
    KASSERT_TRUE(warm);
  }
  const Levels before = measure();
  const uint64_t waits_before = rt::internal::global_stats().waits;
  const uint64_t evictions_before = squeeze.evictions();
  const uint64_t dropped_before = prof::sampler_dropped();
  const uint64_t maps_before = mm_churn.maps(), pages_before = mm_churn.pages();
  const uint64_t granted_before = squeeze.granted(), oom_before = squeeze.out_of_memory() + squeeze.timed_out();
  const uint64_t objects_before = mm_churn.objects();

  // The load.
  const uint32_t window_s = ktest::exact_timing() ? 1 : 5;
  const uint64_t t0 = arch::nanotime();
  const bool started =
      sched_churn.start(/*hotplug=*/true, window_s).ok() && mm_churn.start(&gate).ok() && squeeze.start(&gate).ok();
  const char* broken = started ? nullptr : "a churn could not spawn its threads";
  uint64_t checks = 0, slow_closes = 0, longest_close = 0;
  constexpr uint32_t kGated = MmChurn::kWorkers + RtSqueeze::kWorkers;
  for (uint64_t s = 0; s < seconds && broken == nullptr; ++s) {
    sched::sleep_for(1000 * kMs);
    broken = sched_churn.check_second();
    if (broken != nullptr) break;
    const uint64_t close_start = arch::nanotime();
    bool closed = gate.close(kGated, kGateSlowNs);
    if (!closed) {
      ++slow_closes;
      arch::kprint("torture: the gate is still open after {} ms (second {})\n", kGateSlowNs / kMs, s + 1);
      report_gate(mm_churn, squeeze, /*all_cpus=*/false);
      closed = gate.close(kGated, kGateBoundNs - kGateSlowNs);
    }
    const uint64_t close_ns = arch::nanotime() - close_start;
    if (close_ns > longest_close) longest_close = close_ns;
    if (!closed) {
      broken = "the memory and reservation workers did not all park at the gate";
      report_gate(mm_churn, squeeze, /*all_cpus=*/true);
    } else {
      broken = check_parked();
      ++checks;
    }
    if (!gate.open(kGateBoundNs)) broken = "a worker did not leave the gate";
  }
  const uint64_t elapsed = arch::nanotime() - t0;
  sched_churn.stop();
  mm_churn.stop();
  squeeze.stop();
  if (prof_run.owned) KEXPECT_TRUE(prof::sampler_stop());
  prof_run.end = arch::nanotime();
  if (broken != nullptr) ktest_ctx.fail(__FILE__, __LINE__, "invariant broken: {}", broken);

  // Every sample well-formed.
  uint64_t samples = 0, bad = 0;
  const char* first_bad = nullptr;
  if (prof_run.owned) {
    SampleBounds b;
    b.cpus = ncpu;
    b.text_lo = reinterpret_cast<uint64_t>(__text_start);
    b.text_hi = reinterpret_cast<uint64_t>(__text_end);
    b.start = prof_run.start;
    b.end = prof_run.end;
    b.event = static_cast<uint8_t>(prof::SampleEvent::kNmiTimer);
    samples = prof::sampler_for_each([&](const prof::Sample& smp) {
      if (const char* p = sample_problem(smp, b)) {
        if (bad++ == 0) first_bad = p;
      }
    });
    if (bad != 0) ktest_ctx.fail(__FILE__, __LINE__, "{} of {} samples malformed: first {}", bad, samples, first_bad);
    KEXPECT_GT(samples, 0u);
  }
  const uint64_t dropped = prof::sampler_dropped() - (prof_run.owned ? 0 : dropped_before);

  // The leak check, on what can be observed: detached threads are reaped
  // by the next spawn or join, or by reap_exited while waiting for the
  // thread count to come back (a spawn here could need a new descriptor).
  const bool threads_back = ktest::wait_until(
      [&] {
        sched::reap_exited();
        return sched::thread_count() == before.threads;
      },
      kGateBoundNs, 1 * kMs);
  const Levels after = measure();
  // The map slots' VA ranges were reserved before the baseline and are
  // given back after it: returning a range may take a page for the VA
  // allocator's records, which is not the load's.
  mm_churn.teardown();
  uint32_t classes_back = 0;
  for (unsigned cls = 0; cls < mm::kHeapNumClasses; ++cls) classes_back += after.live[cls] == before.live[cls];
  const bool leaks = !threads_back || after.pages != before.pages || after.live_objects != before.live_objects ||
                     classes_back != mm::kHeapNumClasses || after.reservations != 0 || after.credit != 0 ||
                     after.budget != before.budget || !after.exact || after.descriptors != before.descriptors;

  // What went wrong inside the churns.
  if (sched_churn.failures() != 0)
    ktest_ctx.fail(__FILE__, __LINE__, "sched churn: {} failures, first: {}", sched_churn.failures(),
                   sched_churn.first_failure());
  if (mm_churn.failures() != 0)
    ktest_ctx.fail(__FILE__, __LINE__, "mm churn: {} failures, first: {}", mm_churn.failures(),
                   mm_churn.first_failure());
  if (squeeze.failures() != 0)
    ktest_ctx.fail(__FILE__, __LINE__, "rt squeeze: {} failures, first: {}", squeeze.failures(),
                   squeeze.first_failure());

  if (prof_run.unavailable != nullptr) arch::kprint("torture: no profile: {}\n", prof_run.unavailable);
  const rt::GlobalResStats& rs = rt::internal::global_stats();
  arch::kprint("torture: gate closes: longest {} ms, {} over {} ms; rt drains {}, longest {} ms, mean {} us\n",
               longest_close / kMs, slow_closes, kGateSlowNs / kMs, rs.drains, rs.drain_max_ns / kMs,
               rs.drains == 0 ? 0 : rs.drain_ns / rs.drains / 1000);
  if (ncpu > 1) arch::kprint("torture: {} offline/online cycles\n", sched_churn.hotplug_cycles());
  arch::kprint(
      "torture: after the load: pages {} (baseline {}), heap live objects {} (baseline {}), {} of {} classes at "
      "baseline, reservations {}, rt credit {}, budget {} (baseline {}), accounting {}, threads {} (baseline {}), "
      "descriptors {} (baseline {})\n",
      after.pages, before.pages, after.live_objects, before.live_objects, classes_back, mm::kHeapNumClasses,
      after.reservations, after.credit, after.budget, before.budget, after.exact ? "exact" : "NOT exact", after.threads,
      before.threads, after.descriptors, before.descriptors);
  const uint64_t tenths = elapsed / (100 * kMs);
  arch::kprint(
      "torture: {} CPUs, {}.{} s, {} sched ops, {} pages, {} objects, {} maps ({} cross-CPU reads), {} reservations "
      "({} waits, {} evictions, {} OOM), {} squeezes, {} checks, {} samples ({} dropped), leaks {}\n",
      ncpu, tenths / 10, tenths % 10, sched_churn.operations(), mm_churn.pages() - pages_before,
      mm_churn.objects() - objects_before, mm_churn.maps() - maps_before, mm_churn.cross_cpu_reads(),
      squeeze.granted() - granted_before, rt::internal::global_stats().waits - waits_before,
      squeeze.evictions() - evictions_before, squeeze.out_of_memory() + squeeze.timed_out() - oom_before,
      squeeze.squeezes(), checks, samples, dropped, leaks ? "FOUND" : "none");
  KEXPECT_TRUE(!leaks);
  KEXPECT_GT(sched_churn.short_lived(), 0u);
  KEXPECT_GT(mm_churn.maps() - maps_before, 0u);
  KEXPECT_GT(squeeze.granted() - granted_before, 0u);
  KEXPECT_EQ(checks, seconds);
  if (ncpu > 1) KEXPECT_GT(sched_churn.hotplug_cycles(), 0u);
}

}  // namespace
}  // namespace torture
