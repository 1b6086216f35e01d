// In-kernel tests of heap reservations: charging, release, nesting,
// overruns, FIFO waiting, cancellation, evictable caches, sizing from
// peaks, and the accounting invariant under load and under a squeeze.
#include "src/arch/clock.h"
#include "src/arch/console.h"
#include "src/arch/smp_boot.h"
#include "src/ktest/ktest.h"
#include "src/ktest/pin_to.h"
#include "src/mm/kmalloc.h"
#include "src/rt/evictable.h"
#include "src/rt/parked_credit.h"
#include "src/rt/reserve.h"
#include "src/rt/reserve_stats.h"
#include "src/rt/site_suggestion.h"
#include "src/sched/cpu_offline.h"
#include "src/sched/sched.h"
#include "src/sched/sync.h"
#include "src/sched/thread.h"

namespace rt {
namespace {

using base::MemoryOrder;

constexpr unsigned k64 = mm::size_to_class(64);
constexpr unsigned k256 = mm::size_to_class(256);
constexpr unsigned k4096 = mm::size_to_class(4096);
constexpr uint64_t kMs = 1'000'000;

constexpr Objs objs_of(unsigned cls, uint32_t n) {
  Objs o{};
  o[cls] = n;
  return o;
}

// a - b per class (scalar: no SIMD region needed).
Objs minus(const Objs& a, const Objs& b) {
  Objs d{};
  for (unsigned c = 0; c < kObjsClasses; ++c) d[c] = a[c] - b[c];
  return d;
}

sched::Thread* must_spawn(sched::ThreadFn fn, void* arg, const char* name) {
  base::Result<sched::Thread*> t = sched::spawn(fn, arg, {.name = name});
  ASSERT_MSG(t.ok(), "spawn {}: {}", name, base::error_name(t.error()));
  return t.value();
}

// Polls `pred` (every 100 us) until it holds or `timeout_ns` passes: a wait
// on observable state, with a generous bound.
template <typename Pred>
bool wait_until(Pred pred, uint64_t timeout_ns = 5'000 * kMs) {
  const uint64_t deadline = arch::nanotime() + timeout_ns;
  while (!pred()) {
    if (arch::nanotime() > deadline) return false;
    sched::sleep_for(100'000);
  }
  return true;
}

uint64_t global_waits() { return __atomic_load_n(&internal::global_stats().waits, __ATOMIC_RELAXED); }

// Sets the maximum so that the budget left is about `left` bytes (other
// CPUs' credit drained first, so it is not counted twice); returns the
// maximum to restore.
int64_t set_budget_left(int64_t left) {
  internal::drain_all_cpus();
  mm::HeapBudget& b = mm::heap_budget();
  const int64_t old = b.max();
  base::Status s = set_max_heap(static_cast<uint64_t>(old - b.left() + left));
  ASSERT_MSG(s.ok(), "set_max_heap");
  return old;
}

void restore_max(int64_t max) { ASSERT_MSG(set_max_heap(static_cast<uint64_t>(max)).ok(), "set_max_heap"); }

// The accounting adds up to the maximum (the caller keeps the heap quiet).
bool accounting_exact(ktest::Context& ktest_ctx) {
  const ResSnapshot s = res_snapshot();
  KEXPECT_EQ(s.accounted_bytes(), s.max_bytes);
  return s.accounted_bytes() == s.max_bytes;
}

constinit ReserveSite basic_site{"ktest.basic", objs_of(k64, 4)};

KTEST(rt_reserve, allocations_charge_the_reservation_and_release_returns_the_rest) {
  accounting_exact(ktest_ctx);
  sched::Thread* me = sched::current();
  const uint64_t overruns = mm::heap_charge_stats().overruns;
  {
    Reservation r(basic_site);
    KASSERT_TRUE(r.ok());
    KEXPECT_TRUE(me->heap_charge == &me->reservation);
    void* a = mm::kmalloc(64);
    void* b = mm::kmalloc(60);  // the same class
    void* c = mm::kmalloc(64);
    KEXPECT_EQ(me->reservation.used[k64], 3u);
    KEXPECT_EQ(me->reservation.credit(k64), 1);
    mm::kfree(a);
    KEXPECT_EQ(me->reservation.used[k64], 2u);
    KEXPECT_EQ(me->reservation.peak[k64], 3u);
    mm::kfree(b);
    mm::kfree(c);
    KEXPECT_EQ(mm::heap_charge_stats().overruns, overruns);
  }
  KEXPECT_TRUE(me->heap_charge == nullptr);
  KEXPECT_GE(basic_site.measured_peak()[k64], 3u);
  accounting_exact(ktest_ctx);
}

constinit ReserveSite outer_site{"ktest.outer", objs_of(k64, 4)};
constinit ReserveSite inner_site{"ktest.inner", objs_of(k64, 2)};

KTEST(rt_reserve, a_nested_reservation_is_charged_alone_and_the_outer_resumes) {
  sched::Thread* me = sched::current();
  void* kept_outer;
  void* kept_inner;
  {
    Reservation outer(outer_site);
    KASSERT_TRUE(outer.ok());
    kept_outer = mm::kmalloc(64);
    {
      Reservation inner(inner_site);
      KASSERT_TRUE(inner.ok());
      KEXPECT_EQ(me->reservation.limit[k64], 2u);
      KEXPECT_EQ(me->reservation.used[k64], 0u);
      kept_inner = mm::kmalloc(64);
      void* p = mm::kmalloc(64);
      KEXPECT_EQ(me->reservation.used[k64], 2u);
      mm::kfree(p);
    }
    // The outer's counts, untouched by the inner's allocations.
    KEXPECT_TRUE(me->heap_charge == &me->reservation);
    KEXPECT_EQ(me->reservation.limit[k64], 4u);
    KEXPECT_EQ(me->reservation.used[k64], 1u);
  }
  KEXPECT_TRUE(me->heap_charge == nullptr);
  mm::kfree(kept_outer);
  mm::kfree(kept_inner);
  accounting_exact(ktest_ctx);
}

// --- The sparse and vector fast paths -----------------------------------

// The account a thread holds between reservations: all zero but for the
// limits of the site whose credit it parked (or had reclaimed), which the
// sparse path relies on (it writes only its own classes' limits) and the
// parked path too (it writes none). The caller is `t`.
bool account_is_clean(sched::Thread* t) {
  const mm::HeapCharge& a = t->reservation;
  const auto parked = ParkedCredit<ReserveSite>::decode(t->reserve_parked.load(MemoryOrder::kRelaxed));
  const Objs limit = parked.site != nullptr ? minus(a.limit, parked.site->want) : a.limit;
  return limit == Objs{} && a.used == Objs{} && a.peak == Objs{} && a.touched == 0 && a.overruns == 0;
}

bool account_clean(ktest::Context& ktest_ctx, sched::Thread* t) {
  const bool clean = account_is_clean(t);
  KEXPECT_TRUE(clean);
  return clean;
}

constexpr Objs objs_of2(unsigned c1, uint32_t n1, unsigned c2, uint32_t n2) {
  Objs o = objs_of(c1, n1);
  o[c2] = n2;
  return o;
}
constexpr Objs dense_want() {
  Objs o{};
  for (unsigned c = 0; c <= ReserveSite::kSparseMax; ++c) o[c] = 1;  // one class too many
  return o;
}

constinit ReserveSite sparse_site{"ktest.sparse", objs_of2(k64, 2, k256, 1)};
constinit ReserveSite sparse_a_site{"ktest.sparse_a", objs_of(k64, 2)};
constinit ReserveSite dense_site{"ktest.dense", dense_want()};

KTEST(rt_reserve, a_small_want_takes_the_sparse_path_and_leaves_the_account_clean) {
  sched::Thread* me = sched::current();
  ktest::PinTo pin(me->last_cpu);
  {
    Reservation first(sparse_site);
    KASSERT_TRUE(first.ok());
  }  // registers the site (vector path)
  account_clean(ktest_ctx, me);
  {
    Reservation r(sparse_site);
    KASSERT_TRUE(r.ok());
    KEXPECT_TRUE(r.sparse());  // this CPU's credit holds what `first` gave back
    KEXPECT_EQ(me->reservation.limit[k64], 2u);
    KEXPECT_EQ(me->reservation.limit[k256], 1u);
    KEXPECT_TRUE(me->heap_charge == &me->reservation);
  }
  KEXPECT_TRUE(me->heap_charge == nullptr);
  account_clean(ktest_ctx, me);
  accounting_exact(ktest_ctx);
}

uint64_t parked_reclaims() { return __atomic_load_n(&internal::global_stats().parked_reclaims, __ATOMIC_RELAXED); }

// Reserves `site` and releases it untouched until its credit is parked in
// the calling thread (the first use registers the site and goes through
// the vector path; the next takes the sparse path and parks). Pinned, so
// the sparse take finds what the release before it gave this CPU.
bool park_credit_of(ReserveSite& site) {
  sched::Thread* me = sched::current();
  ktest::PinTo pin(me->last_cpu);
  for (int i = 0; i < 3 && internal::parked_of(me).parked() != &site; ++i) {
    Reservation r(site);
    if (!r.ok()) return false;
  }
  return internal::parked_of(me).parked() == &site;
}

constinit ReserveSite park_site{"ktest.park", objs_of2(k64, 4, k256, 2)};

KTEST(rt_reserve, an_untouched_release_parks_its_credit_and_the_next_reserve_takes_it_back) {
  sched::Thread* me = sched::current();
  KASSERT_TRUE(park_credit_of(park_site));
  // Parked: the account keeps the limits, nothing charges it, and the
  // credit is counted as parked in the exact sum.
  KEXPECT_TRUE(me->heap_charge == nullptr);
  KEXPECT_EQ(me->reservation.limit[k64], 4u);
  account_clean(ktest_ctx, me);
  const ResSnapshot s = res_snapshot();
  KEXPECT_GE(s.parked[k64], 4u);
  KEXPECT_GE(s.parked_threads, 1u);
  accounting_exact(ktest_ctx);
  const uint64_t hits = me->reserve_parked_hits;
  {
    Reservation r(park_site);  // on any CPU: the credit is the thread's
    KASSERT_TRUE(r.ok());
    KEXPECT_TRUE(r.sparse());
    KEXPECT_EQ(me->reserve_parked_hits, hits + 1);
    KEXPECT_TRUE(internal::parked_of(me).empty());  // taken while held
    KEXPECT_TRUE(me->heap_charge == &me->reservation);
    void* p = mm::kmalloc(256);  // charged to it: the release settles, and does not park
    KEXPECT_EQ(me->reservation.used[k256], 1u);
    mm::kfree(p);
  }
  KEXPECT_TRUE(internal::parked_of(me).empty());
  account_clean(ktest_ctx, me);
  // Another site's reserve settles the parking first (its credit to this
  // CPU), then takes its own.
  KASSERT_TRUE(park_credit_of(park_site));
  {
    Reservation r(sparse_a_site);
    KASSERT_TRUE(r.ok());
    KEXPECT_EQ(me->reservation.limit[k64], 2u);
    KEXPECT_EQ(me->reservation.limit[k256], 0u);
  }
  account_clean(ktest_ctx, me);
  accounting_exact(ktest_ctx);
}

KTEST(rt_reserve, a_cancel_is_seen_by_a_reserve_that_would_take_parked_credit) {
  sched::Thread* me = sched::current();
  KASSERT_TRUE(park_credit_of(park_site));
  cancel_reserve(me);
  {
    Reservation r(park_site);
    KEXPECT_EQ(r.status().error(), base::Error::kCancelled);
  }
  KEXPECT_TRUE(internal::parked_of(me).empty());  // its credit went back to the CPU
  account_clean(ktest_ctx, me);
  {
    Reservation r(park_site);
    KEXPECT_TRUE(r.ok());  // the cancel was used up
  }
  accounting_exact(ktest_ctx);
}

// A thread that parks credit, says so, and waits to be told to go on:
// then reserves its site once more (or not) and exits.
struct Parker {
  ReserveSite* site;
  bool reserve_again = false;
  base::Atomic<uint32_t> parked{0};  // 1: parked; 2: could not park
  base::Atomic<uint32_t> go{0};
  bool found_reclaimed = false;
  bool clean_after = false;
  bool again_ok = false;
  bool again_from_parked = true;
};

void park_and_wait(void* arg) {
  auto* p = static_cast<Parker*>(arg);
  sched::Thread* me = sched::current();
  p->parked.store(park_credit_of(*p->site) ? 1 : 2, MemoryOrder::kRelease);
  while (p->go.load(MemoryOrder::kAcquire) == 0) sched::sleep_for(100'000);
  if (!p->reserve_again) return;
  // What a reserve does first, by hand: take the word back and settle it.
  // A reclaimed parking leaves only its limits, which must be cleared
  // (the sparse path writes only its own classes' limits).
  const uintptr_t word = internal::parked_of(me).take();
  const auto taken = ParkedCredit<ReserveSite>::decode(word);
  p->found_reclaimed = taken.site == p->site && !taken.credit;
  if (word != 0) internal::unpark(me, word);
  p->clean_after = me->reservation.limit == Objs{} && account_is_clean(me);
  const uint64_t hits = me->reserve_parked_hits;
  {
    Reservation r(*p->site);
    p->again_ok = r.ok();
    p->again_from_parked = me->reserve_parked_hits != hits;
  }
}

// Starts a Parker and waits until its credit is parked.
sched::Thread* start_parker(ktest::Context& ktest_ctx, Parker& p) {
  sched::Thread* t = must_spawn(park_and_wait, &p, "parker");
  KEXPECT_TRUE(wait_until([&] { return p.parked.load(MemoryOrder::kAcquire) != 0; }));
  KEXPECT_EQ(p.parked.load(MemoryOrder::kAcquire), 1u);
  return t;
}

// 32 KiB: at kKeepLimit in both classes, the most a CPU keeps (the
// sparse take that parks it takes from one CPU's credit).
constinit ReserveSite parker_site{"ktest.parker", objs_of2(k4096, 4, k256, 64)};
constinit ReserveSite parked_waiter_site{"ktest.parked_waiter", objs_of(k64, 256)};  // 16 KiB

KTEST(rt_reserve, credit_parked_in_another_thread_is_reclaimed_for_a_reserve_that_needs_it) {
  // No credit on any CPU and no other parking (the drain takes both), a
  // parker with 32 KiB, and a budget held at nothing (as if others had it).
  internal::drain_all_cpus();
  Parker p{&parker_site, /*reserve_again=*/true};
  sched::Thread* t = start_parker(ktest_ctx, p);
  KEXPECT_TRUE(internal::parked_of(t).parked() == &parker_site);
  const int64_t held = mm::heap_budget().left() > 0 ? mm::heap_budget().left() : 0;
  mm::heap_budget().force_take(held);
  const uint64_t reclaims = parked_reclaims();
  {
    // Nothing is free but the parking: the reserve reclaims it before it
    // waits. It wants half of it: the drains themselves allocate outside
    // reservations, and the CPU accounts refill from what came back (we
    // measured 640 bytes taken so).
    Reservation r(parked_waiter_site, {.timeout_ns = 2'000 * kMs});
    KEXPECT_TRUE(r.ok());
  }
  KEXPECT_TRUE(internal::parked_of(t).parked() == nullptr);
  KEXPECT_GE(parked_reclaims(), reclaims + 1);
  mm::heap_budget().give(held);
  p.go.store(1, MemoryOrder::kRelease);
  sched::join(t);
  // The parker found its parking gone, cleared its limits and reserved
  // anew.
  KEXPECT_TRUE(p.found_reclaimed);
  KEXPECT_TRUE(p.again_ok);
  KEXPECT_TRUE(!p.again_from_parked);
  KEXPECT_TRUE(p.clean_after);
  accounting_exact(ktest_ctx);
}

KTEST(rt_reserve, credit_parked_in_a_thread_goes_back_when_it_exits) {
  Parker p{&parker_site};
  sched::Thread* t = start_parker(ktest_ctx, p);
  KEXPECT_TRUE(internal::parked_of(t).parked() == &parker_site);
  // Counted while parked in a live thread...
  const ResSnapshot s = res_snapshot();
  KEXPECT_GE(s.parked[k4096], 4u);
  accounting_exact(ktest_ctx);
  p.go.store(1, MemoryOrder::kRelease);
  sched::join(t);
  // ...and back in the budget once it is gone: a thread that took it along
  // would leave the sum 32 KiB short.
  accounting_exact(ktest_ctx);
}

KTEST(rt_reserve, lowering_the_maximum_reclaims_parked_credit) {
  Parker p{&parker_site, /*reserve_again=*/true};
  sched::Thread* t = start_parker(ktest_ctx, p);
  KEXPECT_TRUE(internal::parked_of(t).parked() == &parker_site);
  const uint64_t reclaims = parked_reclaims();
  const int64_t max = mm::heap_budget().max();
  KASSERT_TRUE(set_max_heap(static_cast<uint64_t>(max - 4096)).ok());
  KEXPECT_TRUE(internal::parked_of(t).parked() == nullptr);
  KEXPECT_GE(parked_reclaims(), reclaims + 1);
  accounting_exact(ktest_ctx);
  restore_max(max);
  p.go.store(1, MemoryOrder::kRelease);
  sched::join(t);
  KEXPECT_TRUE(p.found_reclaimed);
  KEXPECT_TRUE(p.again_ok);
  KEXPECT_TRUE(!p.again_from_parked);
  KEXPECT_TRUE(p.clean_after);
  accounting_exact(ktest_ctx);
}

// Credit left on every CPU, one of them offline, goes back to the budget
// with one drain: each CPU answers the drain IPI, the parked one too (it
// halts with interrupts on). Drains once skipped offline CPUs, which kept
// their credit until they came back.
constinit ReserveSite drain_site{"ktest.drain", objs_of(k64, 4)};

KTEST(rt_reserve, a_drain_empties_every_cpus_credit_an_offline_ones_too) {
  const uint32_t n = arch::cpus_online();
  if (n < 2) KTEST_SKIP("needs 2 CPUs (one goes offline)");
  const arch::CpuIndex off(n - 1);
  if (const char* why = sched::offline_refusal(off)) KTEST_SKIP("cpu {} cannot go offline: {}", off.value, why);
  for (uint32_t cpu = 0; cpu < n; ++cpu) {
    ktest::PinTo pin{arch::CpuIndex(cpu)};
    // An explicit want takes the vector path; its untouched release leaves
    // the 4 objects as this CPU's credit.
    Reservation r(drain_site, objs_of(k64, 4));
    KEXPECT_TRUE(r.ok());
  }
  KEXPECT_GT(internal::cpu_credit(off.value).avail[k64], 0u);
  base::Result<size_t> r = sched::cpu_offline(off);
  KASSERT_TRUE(r.ok());
  const uint64_t drains = internal::global_stats().drains;
  internal::drain_all_cpus();
  KEXPECT_EQ(internal::global_stats().drains, drains + 1);
  KEXPECT_EQ(internal::cpu_credit(off.value).avail[k64], 0u);
  uint64_t online_credit = 0;
  for (uint32_t cpu = 0; cpu < off.value; ++cpu) online_credit += internal::cpu_credit(cpu).avail[k64];
  KEXPECT_EQ(online_credit, 0u);
  KEXPECT_TRUE(sched::cpu_online(off).ok());
}

KTEST(rt_reserve, a_sparse_reservation_settles_allocations_and_frees_of_other_classes) {
  sched::Thread* me = sched::current();
  {
    Reservation first(sparse_site);
    KASSERT_TRUE(first.ok());
  }
  void* foreign = mm::kmalloc(4096);  // outside any reservation
  void* kept;
  {
    Reservation r(sparse_site);
    KASSERT_TRUE(r.ok());
    kept = mm::kmalloc(64);
    void* t = mm::kmalloc(256);
    mm::kfree(t);
    mm::kfree(foreign);  // a class the site did not reserve: credit
    KEXPECT_EQ(static_cast<int32_t>(me->reservation.used[k4096]), -1);
    KEXPECT_NE(me->reservation.touched & (1u << k4096), 0u);
  }
  account_clean(ktest_ctx, me);
  KEXPECT_GE(sparse_site.measured_peak()[k64], 1u);
  KEXPECT_GE(sparse_site.measured_peak()[k256], 1u);
  mm::kfree(kept);
  accounting_exact(ktest_ctx);
}

KTEST(rt_reserve, a_sparse_reservation_that_overruns_is_settled_and_counted) {
  sched::Thread* me = sched::current();
  {
    Reservation first(sparse_a_site);
    KASSERT_TRUE(first.ok());
  }
  const uint64_t site_overruns = __atomic_load_n(&sparse_a_site.overruns, __ATOMIC_RELAXED);
  void* p[3];
  {
    Reservation r(sparse_a_site);
    KASSERT_TRUE(r.ok());
    for (void*& q : p) q = mm::kmalloc(64);  // the third overruns
  }
  KEXPECT_EQ(__atomic_load_n(&sparse_a_site.overruns, __ATOMIC_RELAXED) - site_overruns, 1u);
  account_clean(ktest_ctx, me);
  for (void* q : p) mm::kfree(q);
  accounting_exact(ktest_ctx);
}

KTEST(rt_reserve, a_sparse_take_short_in_a_later_class_undoes_the_earlier_ones) {
  sched::Thread* me = sched::current();
  ktest::PinTo pin(me->last_cpu);  // one CPU's credit throughout
  {
    Reservation first(sparse_site);
    KASSERT_TRUE(first.ok());
  }  // both sites registered
  {
    Reservation first(sparse_a_site);
    KASSERT_TRUE(first.ok());
  }
  internal::drain_all_cpus();
  // This CPU now holds 2 objects of 64 bytes (what sparse_a gives back) and
  // none of 256: sparse_site's take finds k64 and then misses k256.
  {
    Reservation a(sparse_a_site);
    KASSERT_TRUE(a.ok());
  }
  const CpuCredit& cc = internal::cpu_credit(sched::current()->last_cpu.value);
  KEXPECT_EQ(cc.avail[k64], 2u);
  KEXPECT_EQ(cc.avail[k256], 0u);
  {
    Reservation r(sparse_site);
    KASSERT_TRUE(r.ok());  // robbed the budget for k256 instead
    KEXPECT_TRUE(!r.sparse());
    KEXPECT_EQ(me->reservation.limit[k64], 2u);
    KEXPECT_EQ(me->reservation.limit[k256], 1u);
    KEXPECT_EQ(cc.avail[k64], 0u);  // taken once, not twice
  }
  account_clean(ktest_ctx, me);
  accounting_exact(ktest_ctx);
}

KTEST(rt_reserve, a_dense_want_takes_the_vector_path) {
  sched::Thread* me = sched::current();
  {
    Reservation first(dense_site);
    KASSERT_TRUE(first.ok());
  }
  KEXPECT_EQ(dense_site.sparse_n, 0u);
  void* kept;
  {
    Reservation r(dense_site);
    KASSERT_TRUE(r.ok());
    KEXPECT_TRUE(!r.sparse());
    for (unsigned c = 0; c <= ReserveSite::kSparseMax; ++c) KEXPECT_EQ(me->reservation.limit[c], 1u);
    kept = mm::kmalloc(mm::heap_class(0).size);
  }
  account_clean(ktest_ctx, me);
  mm::kfree(kept);
  accounting_exact(ktest_ctx);
}

constinit ReserveSite overrun_site{"ktest.overrun", objs_of(k64, 1)};

// One call site each (the empty asm after the call keeps it from becoming a
// tail call, which would make the caller's call the site).
[[gnu::noinline]] void* allocate_at_site_a() {
  void* p = mm::kmalloc(64);
  asm volatile("" ::"r"(p) : "memory");
  return p;
}
[[gnu::noinline]] void* allocate_at_site_b() {
  void* p = mm::kmalloc(64);
  asm volatile("" ::"r"(p) : "memory");
  return p;
}

KTEST(rt_reserve, overruns_succeed_and_are_reported_once_per_call_site) {
  static bool ran_before = false;  // the site set is global: a rerun finds both sites known
  const mm::HeapChargeStats before = mm::heap_charge_stats();
  const uint64_t site_overruns = __atomic_load_n(&overrun_site.overruns, __ATOMIC_RELAXED);
  void* p[5];
  {
    Reservation r(overrun_site);
    KASSERT_TRUE(r.ok());
    p[0] = allocate_at_site_a();  // within the reservation
    p[1] = allocate_at_site_a();  // overruns from a: reported
    p[2] = allocate_at_site_a();  // again from a: counted, not reported
    p[3] = allocate_at_site_b();  // from b: reported
    p[4] = allocate_at_site_b();
    for (void* q : p) KEXPECT_TRUE(q != nullptr);
  }
  for (void* q : p) mm::kfree(q);
  const mm::HeapChargeStats after = mm::heap_charge_stats();
  KEXPECT_EQ(after.overruns - before.overruns, 4u);
  KEXPECT_EQ(after.overrun_sites - before.overrun_sites, ran_before ? 0u : 2u);
  KEXPECT_EQ(__atomic_load_n(&overrun_site.overruns, __ATOMIC_RELAXED) - site_overruns, 4u);
  ran_before = true;
  accounting_exact(ktest_ctx);
}

// --- Waiting: FIFO order and cancellation -----------------------------------

struct Waiting {
  ReserveSite* site;
  Objs want;
  uint64_t timeout_ns;
  base::Atomic<uint32_t>* order;  // shared grant counter
  uint32_t granted_as = 0;        // 1 + the position in which the thread recorded it
  uint64_t turn = 0;              // Reservation::waited_turn()
  base::Error error = base::Error::kFault;
  bool ok = false;
};

void reserve_and_record(void* arg) {
  auto* w = static_cast<Waiting*>(arg);
  Reservation r(*w->site, w->want, {.timeout_ns = w->timeout_ns});
  w->ok = r.ok();
  w->turn = r.waited_turn();
  if (r.ok()) {
    w->granted_as = 1 + w->order->fetch_add(1, MemoryOrder::kAcqRel);
  } else {
    w->error = r.status().error();
  }
}

constinit ReserveSite large_site{"ktest.fifo_large", objs_of(k4096, 256)};  // 1 MiB
constinit ReserveSite small_site{"ktest.fifo_small", objs_of(k64, 1)};

KTEST(rt_reserve, a_large_waiting_request_is_served_before_later_small_ones) {
  base::Atomic<uint32_t> order{0};
  // Half of the large request is left: the small one would fit.
  const int64_t max = set_budget_left(512 * 1024);
  const uint64_t waits = global_waits();
  Waiting large{&large_site, large_site.want, ReserveWait::kForever, &order};
  sched::Thread* lt = must_spawn(reserve_and_record, &large, "large");
  KASSERT_TRUE(wait_until([&] { return global_waits() >= waits + 1; }));
  Waiting small{&small_site, small_site.want, ReserveWait::kForever, &order};
  sched::Thread* st = must_spawn(reserve_and_record, &small, "small");
  KASSERT_TRUE(wait_until([&] { return global_waits() >= waits + 2; }));
  KEXPECT_EQ(order.load(MemoryOrder::kAcquire), 0u);  // the small one waits in line
  restore_max(max + 2 * 1024 * 1024);                 // room for both
  sched::join(lt);
  sched::join(st);
  restore_max(max);
  KEXPECT_TRUE(large.ok);
  KEXPECT_TRUE(small.ok);
  // The order of the grants themselves (rt counts them under its lock):
  // the order the two threads recorded afterwards is theirs to race.
  KEXPECT_GT(large.turn, 0u);
  KEXPECT_EQ(small.turn, large.turn + 1);
  accounting_exact(ktest_ctx);
}

constinit ReserveSite cancel_site{"ktest.cancel", objs_of(k4096, 64)};

KTEST(rt_reserve, a_waiting_reserve_can_be_cancelled) {
  base::Atomic<uint32_t> order{0};
  const int64_t max = set_budget_left(0);
  const uint64_t waits = global_waits();
  Waiting w{&cancel_site, cancel_site.want, ReserveWait::kForever, &order};
  sched::Thread* t = must_spawn(reserve_and_record, &w, "cancelled");
  KASSERT_TRUE(wait_until([&] { return global_waits() >= waits + 1; }));
  cancel_reserve(t);
  sched::join(t);
  restore_max(max);
  KEXPECT_TRUE(!w.ok);
  KEXPECT_EQ(w.error, base::Error::kCancelled);
  KEXPECT_EQ(w.granted_as, 0u);
  // Timeouts and no-wait failures are clean too.
  const int64_t max2 = set_budget_left(0);
  {
    Reservation none(cancel_site);
    KEXPECT_EQ(none.status().error(), base::Error::kOutOfMemory);
    Reservation later(cancel_site, cancel_site.want, {.timeout_ns = 20 * kMs});
    KEXPECT_EQ(later.status().error(), base::Error::kTimedOut);
  }
  restore_max(max2);
  accounting_exact(ktest_ctx);
}

// --- Evictable caches -------------------------------------------------------

// A cache that really holds heap objects: 256-byte blocks on a list.
struct BlockCache {
  sched::Mutex lock;
  void* head GUARDED_BY(lock) = nullptr;
  uint32_t count GUARDED_BY(lock) = 0;

  void fill(uint32_t n) {
    for (uint32_t i = 0; i < n; ++i) {
      void* b = mm::kmalloc(256);
      ASSERT_MSG(b != nullptr, "block cache fill");
      sched::MutexGuard g(lock);
      *static_cast<void**>(b) = head;
      head = b;
      ++count;
    }
  }
  static uint64_t shrink(void* ctx, uint64_t bytes) {
    auto* c = static_cast<BlockCache*>(ctx);
    uint64_t freed = 0;
    sched::MutexGuard g(c->lock);
    while (c->head != nullptr && freed < bytes) {
      void* b = c->head;
      c->head = *static_cast<void**>(b);
      --c->count;
      mm::kfree(b);
      freed += 256;
    }
    return freed;
  }
  void clear() { (void)shrink(this, ~uint64_t{0}); }
};

constinit ReserveSite evict_site{"ktest.evict", objs_of(k256, 64)};  // 16 KiB

KTEST(rt_reserve, a_reserve_the_budget_cannot_meet_makes_caches_give_back) {
  BlockCache cache;
  cache.fill(512);  // 128 KiB held
  Evictable e{"ktest.blocks", BlockCache::shrink, &cache};
  register_evictable(&e);
  const int64_t max = set_budget_left(0);
  {
    Reservation r(evict_site);  // no waiting: eviction alone must make room
    KEXPECT_TRUE(r.ok());
  }
  restore_max(max);
  unregister_evictable(&e);
  KEXPECT_GT(e.evicted_bytes, 0u);
  {
    sched::MutexGuard g(cache.lock);
    KEXPECT_LT(cache.count, 512u);
  }
  cache.clear();
  accounting_exact(ktest_ctx);
}

// --- Under load ---------------------------------------------------------------

constinit ReserveSite load_site{"ktest.load", objs_of(k64, 8)};
constinit ReserveSite load_park_sites[2] = {{"ktest.load_park_a", objs_of(k64, 3)},
                                            {"ktest.load_park_b", objs_of2(k64, 1, k256, 2)}};

struct Load {
  base::Atomic<uint32_t> stop{0};
  base::Atomic<uint32_t> pause{0};
  base::Atomic<uint32_t> paused{0};
  base::Atomic<uint64_t> granted{0}, refused{0};
  uint64_t timeout_ns = 50 * kMs;
};

struct Worker {
  Load* load;
  uint32_t seed;
};

uint32_t next_random(uint32_t& x) {
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return x;
}

// Reserves a random mix, allocates up to it, frees, releases; parks when
// asked so the invariant can be checked with nothing in flight.
void load_worker(void* arg) {
  auto* w = static_cast<Worker*>(arg);
  Load& load = *w->load;
  void* held[32];
  while (load.stop.load(MemoryOrder::kAcquire) == 0) {
    if (load.pause.load(MemoryOrder::kAcquire) != 0) {
      load.paused.fetch_add(1, MemoryOrder::kAcqRel);
      while (load.pause.load(MemoryOrder::kAcquire) != 0) sched::sleep_for(100'000);
      load.paused.fetch_sub(1, MemoryOrder::kAcqRel);
      continue;
    }
    {
      Objs want{};
      for (int k = 0; k < 4; ++k) want[next_random(w->seed) % 12] += 1 + next_random(w->seed) % 4;
      Reservation r(load_site, want, {.timeout_ns = load.timeout_ns});
      if (!r.ok()) {
        load.refused.fetch_add(1, MemoryOrder::kRelaxed);
        continue;
      }
      load.granted.fetch_add(1, MemoryOrder::kRelaxed);
      size_t n = 0;
      for (unsigned c = 0; c < kObjsClasses && n < 32; ++c) {
        for (uint32_t i = 0; i < want[c] && n < 32; ++i) {
          held[n] = mm::kmalloc(mm::heap_class(c).size);
          ASSERT_MSG(held[n] != nullptr, "kmalloc within a reservation failed");
          ++n;
        }
      }
      if (next_random(w->seed) % 4 == 0) sched::yield();
      for (size_t i = 0; i < n; ++i) mm::kfree(held[i]);
    }
    // Empty reservations of two sparse sites: each parks, is taken back
    // or settled by the other, and is reclaimed by drains under a squeeze,
    // all while the invariant (parked credit included) is checked.
    for (uint32_t k = next_random(w->seed) % 4; k > 0; --k) {
      Reservation empty(load_park_sites[next_random(w->seed) % 2], {.timeout_ns = load.timeout_ns});
      (empty.ok() ? load.granted : load.refused).fetch_add(1, MemoryOrder::kRelaxed);
    }
  }
}

struct LoadRun {
  static constexpr uint32_t kMaxWorkers = 32;
  Load load;
  Worker workers[kMaxWorkers];
  sched::Thread* threads[kMaxWorkers];
  uint32_t n = 0;

  void start(uint32_t count) {
    n = count < kMaxWorkers ? count : kMaxWorkers;
    for (uint32_t i = 0; i < n; ++i) {
      workers[i] = Worker{&load, 0x9e37'79b9u * (i + 1)};
      threads[i] = must_spawn(load_worker, &workers[i], "res-load");
    }
  }
  bool pause_all() {
    load.pause.store(1, MemoryOrder::kRelease);
    return wait_until([&] { return load.paused.load(MemoryOrder::kAcquire) == n; });
  }
  void resume_all() { load.pause.store(0, MemoryOrder::kRelease); }
  void stop() {
    resume_all();
    load.stop.store(1, MemoryOrder::kRelease);
    for (uint32_t i = 0; i < n; ++i) sched::join(threads[i]);
  }
};

KTEST(rt_reserve, the_accounting_is_exact_while_every_cpu_reserves) {
  LoadRun run;
  run.start(2 * sched::sched_cpus() + 2);
  uint64_t parked_seen = 0;  // the sum is checked with credit parked, not only without
  for (int round = 0; round < 6; ++round) {
    const uint64_t granted = run.load.granted.load(MemoryOrder::kRelaxed);
    KASSERT_TRUE(wait_until([&] { return run.load.granted.load(MemoryOrder::kRelaxed) >= granted + 50; }));
    KASSERT_TRUE(run.pause_all());
    parked_seen += res_snapshot().parked_threads;
    if (!accounting_exact(ktest_ctx)) break;
    run.resume_all();
  }
  run.stop();
  KEXPECT_EQ(run.load.refused.load(MemoryOrder::kRelaxed), 0u);  // nothing squeezed them
  KEXPECT_GT(parked_seen, 0u);
  accounting_exact(ktest_ctx);
}

KTEST(rt_reserve, a_squeeze_to_half_brings_waits_evictions_and_clean_failures) {
  BlockCache cache;
  cache.fill(128);
  Evictable e{"ktest.squeeze_blocks", BlockCache::shrink, &cache};
  register_evictable(&e);
  LoadRun run;
  run.load.timeout_ns = 2 * kMs;
  run.start(2 * sched::sched_cpus() + 2);
  KASSERT_TRUE(wait_until([&] { return run.load.granted.load(MemoryOrder::kRelaxed) >= 100; }));
  const ResSnapshot s = res_snapshot();
  const int64_t max = s.max_bytes;
  // Half of what is live and reserved, not counting what the cache can give
  // back: below what the kernel holds even once the cache is empty.
  const uint64_t in_use = s.live_bytes - 128 * 256 + mm::class_counts_bytes(s.reserved);
  const uint64_t waits = global_waits();
  KASSERT_TRUE(set_max_heap(in_use / 2).ok());
  const bool squeezed =
      wait_until([&] { return run.load.refused.load(MemoryOrder::kRelaxed) >= 20 && global_waits() >= waits + 20; });
  if (!squeezed) {
    arch::kprint("squeeze: max {} -> {}, budget left {}, refused {}, waits {}, granted {}\n", max, in_use / 2,
                 mm::heap_budget().left(), run.load.refused.load(MemoryOrder::kRelaxed), global_waits() - waits,
                 run.load.granted.load(MemoryOrder::kRelaxed));
  }
  KEXPECT_TRUE(squeezed);
  restore_max(max);
  const uint64_t granted = run.load.granted.load(MemoryOrder::kRelaxed);
  KEXPECT_TRUE(wait_until([&] { return run.load.granted.load(MemoryOrder::kRelaxed) >= granted + 50; }));
  KASSERT_TRUE(run.pause_all());
  accounting_exact(ktest_ctx);
  run.stop();
  unregister_evictable(&e);
  KEXPECT_GT(e.evicted_bytes, 0u);
  cache.clear();
  accounting_exact(ktest_ctx);
}

// --- Sizing from measured peaks ----------------------------------------------

constinit ReserveSite sized_site{"ktest.sized", objs_of(k64, 16)};

KTEST(rt_reserve, a_sites_suggestion_covers_its_measured_peak) {
  uint32_t seed = 12345;
  const uint64_t overruns = __atomic_load_n(&sized_site.overruns, __ATOMIC_RELAXED);
  for (int i = 0; i < 50; ++i) {
    Reservation r(sized_site);
    KASSERT_TRUE(r.ok());
    void* p[16];
    const uint32_t n = 1 + next_random(seed) % 16;
    for (uint32_t k = 0; k < n; ++k) p[k] = mm::kmalloc(64);
    for (uint32_t k = 0; k < n; ++k) mm::kfree(p[k]);
  }
  KEXPECT_EQ(__atomic_load_n(&sized_site.overruns, __ATOMIC_RELAXED), overruns);
  const Objs peak = sized_site.measured_peak();
  KEXPECT_GT(peak[k64], 0u);
  KEXPECT_LE(peak[k64], 16u);
  const Objs suggested = suggest_reservation(peak);
  for (unsigned c = 0; c < kObjsClasses; ++c) KEXPECT_GE(suggested[c], peak[c]);
  // Every site so far: its suggestion covers its peak.
  for_each_site([&](const ReserveSite& site) {
    const Objs sp = site.measured_peak();
    const Objs ss = suggest_reservation(sp);
    for (unsigned c = 0; c < kObjsClasses; ++c) KEXPECT_GE(ss[c], sp[c]);
  });
}

}  // namespace
}  // namespace rt
