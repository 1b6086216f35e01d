// Heap reservations (Biscuit's Res_t): an operation reserves, per heap size
// class, the objects it may allocate, before it starts; it then either gets
// them or a clear out-of-memory, timeout or cancelled status — never a
// failure half way through. Its allocations are charged to the reservation
// (mm/heap_charge.h); release() hands back what it did not use.
//
// Credit flows between three places, and the heap budget stays exact:
//  - the heap budget (mm::HeapBudget): what nobody holds;
//  - each CPU's credit (`avail`): taken by a reserve that it covers with no
//    lock or shared write (one objs_cmp over all classes, or for a want of
//    a few classes a compare of just those: see Reservation); refilled by
//    robbing the budget class by class, and flushed back above a limit or
//    when someone waits;
//  - the reservations of running operations, in their threads' blocks.
//
// A reserve the budget cannot cover first asks the registered caches to
// shrink (evictable.h) and the other CPUs to flush their credit, then waits
// in FIFO order, so a large request is not starved by later small ones.
//
// Kernel only. Thread context, interrupts on, no spinlock held (a reserve
// may wait); release() never waits.
#pragma once

#include "src/arch/percpu.h"
#include "src/arch/smp.h"
#include "src/arch/x86.h"
#include "src/base/atomic.h"
#include "src/base/result.h"
#include "src/base/types.h"
#include "src/rt/objs.h"
#include "src/rt/reserve_stats.h"
#include "src/sched/thread.h"

namespace rt {

/// A kind of operation that reserves: names it in `res sites` and records
/// what its operations really used, so its reservation can be sized from
/// measurement (Biscuit sized them by static analysis). Static storage;
/// registered on first use.
struct ReserveSite {
  /// The most nonzero classes a `want` may have for the sparse fast path.
  static constexpr unsigned kSparseMax = 4;

  constexpr ReserveSite(const char* site_name, const Objs& site_want) : name(site_name), want(site_want) {
    for (unsigned c = 0; c < kObjsClasses; ++c) {
      if (want[c] == 0) continue;
      want_mask |= ObjsMask{1} << c;
      if (sparse_count < kSparseMax) {
        sparse_cls[sparse_count] = static_cast<uint8_t>(c);
        sparse_cnt[sparse_count] = want[c];
      }
      ++sparse_count;
    }
  }
  ReserveSite(const ReserveSite&) = delete;
  ReserveSite& operator=(const ReserveSite&) = delete;

  const char* name;
  const Objs want;  ///< What its operations reserve (Reservation's default).

  // `want` in the sparse fast path's form (see Reservation): the classes it
  // names, and the first kSparseMax of them with their counts. Fixed at
  // construction; `sparse_n` opens the path once the site is registered.
  ObjsMask want_mask = 0;
  uint32_t sparse_count = 0;
  uint8_t sparse_cls[kSparseMax] = {};
  uint32_t sparse_cnt[kSparseMax] = {};
  /// sparse_count when 1..kSparseMax and the site is registered, else 0:
  /// one load tells the fast path both (written once, release order).
  /// Also 0 with fault injection armed: every reserve then takes the
  /// vector path, where fail.reserve is decided, and the sparse path pays
  /// nothing for it.
  uint32_t sparse_n = 0;

  // Measured (relaxed atomics via __atomic builtins on plain fields, so
  // the site stays constexpr-constructible).
  Objs peak{};                  ///< Highest per-class use any operation reached.
  uint64_t overruns = 0;        ///< Allocations past the reservation.
  uint64_t failures = 0;        ///< Out of memory, timed out or cancelled.
  ReserveSite* next = nullptr;  ///< Registered sites, newest first.

  /// `peak` read with relaxed loads (other CPUs merge into it).
  Objs measured_peak() const {
    Objs p{};
    for (unsigned c = 0; c < kObjsClasses; ++c) p[c] = __atomic_load_n(&peak.n[c], __ATOMIC_RELAXED);
    return p;
  }
  uint32_t registered = 0;
};

/// How long a reserve may wait for credit.
struct ReserveWait {
  /// 0: do not wait (kOutOfMemory at once when nothing is free);
  /// kForever: until granted or cancelled.
  uint64_t timeout_ns = 0;
  static constexpr uint64_t kForever = ~uint64_t{0};
};

/// A reservation, held from construction to destruction (or release()).
/// Nesting: a reservation taken while another is held is separate — its
/// allocations are charged to it alone, and the outer one resumes, with
/// its own counts, when it ends.
///
/// Two ways in, both lock-free on this CPU's credit:
///  - sparse (inline, the common case): a registered site whose want names
///    at most kSparseMax classes, no reservation held, no cancel pending,
///    nobody waiting: those classes are compared and taken one by one with
///    interrupts off, and written into the thread's account, which is kept
///    all zero between reservations (release clears what it touched), so
///    nothing else needs writing. Its release, when the account is
///    untouched (`touched` and `overruns` zero: nothing allocated or freed,
///    so used and peak are still zero), gives those classes back the same
///    way.
///  - vector (dense wants, an explicit want, nesting): one fused objs_take
///    compares all classes and starts the account; release settles it with
///    objs_give. Both fall back to the slow path (robbing the budget,
///    waiting) when the credit does not cover the want.
class Reservation {
 public:
  /// Reserves `site.want`, or `want`.
  [[gnu::always_inline]] explicit Reservation(ReserveSite& site, ReserveWait wait = {}) : site_(&site) {
    if (__builtin_expect(!reserve_sparse(site), 0)) reserve_vector(site.want, wait);
  }
  Reservation(ReserveSite& site, const Objs& want, ReserveWait wait = {}) : site_(&site) { reserve_vector(want, wait); }
  [[gnu::always_inline]] ~Reservation() { release(); }
  Reservation(const Reservation&) = delete;
  Reservation& operator=(const Reservation&) = delete;

  /// Ok once granted; kOutOfMemory (nothing to wait for, or timeout 0),
  /// kTimedOut or kCancelled otherwise. With `fail.reserve=P`
  /// (mm/fail_inject.h), inside a FaultScope, also kOutOfMemory at random,
  /// as a reserve that finds no credit and may not wait gets.
  base::Status status() const { return status_; }
  bool ok() const { return status_.ok(); }

  /// Hands back what was not used (idempotent; the destructor calls it).
  [[gnu::always_inline]] void release() {
    if (__builtin_expect(state_ == kSparse, 1) && __builtin_expect(release_sparse(), 1)) return;
    if (state_ != kNone) release_slow();
  }

  /// Whether it was granted by the sparse fast path (for tests).
  bool sparse() const { return state_ == kSparse; }

  /// For a reserve that waited and was granted: its place among all such
  /// grants since boot (1, 2, ...), counted where the grant is made, under
  /// the wait line's lock, so it is the true order; 0 otherwise.
  uint64_t waited_turn() const { return waited_turn_; }

 private:
  enum State : uint8_t { kNone, kSparse, kVector };

  [[gnu::always_inline]] inline bool reserve_sparse(ReserveSite& site);
  [[gnu::always_inline]] inline bool release_sparse();
  [[gnu::noinline]] bool injected_failure();
  void reserve_vector(const Objs& want, ReserveWait wait);
  void reserve_slow(sched::Thread* t, const Objs& want, ReserveWait wait);
  void release_slow();

  ReserveSite* site_;
  base::Status status_;
  State state_ = kNone;
  bool nested_ = false;
  uint64_t waited_turn_ = 0;
  // The enclosing reservation's counts, when nested: constructed only then
  // (a union leaves it alone otherwise: 300 bytes nobody reads).
  union Outer {
    Outer() {}
    mm::HeapCharge charge;
  } outer_;
};

/// Makes `t`'s waiting reserve, or its next one, return kCancelled
/// (Biscuit's OOM killer set a killed flag that a reserve checked before
/// blocking). The flag stays until `t` reserves with it seen.
void cancel_reserve(sched::Thread* t);

/// Changes the heap's maximum at run time. Lowering it below what is live
/// and reserved leaves the budget negative: reserves then wait (or fail)
/// until frees and releases bring it back. kInvalidArgument for 0 or more
/// than the boot budget.
base::Status set_max_heap(uint64_t bytes);

/// Calls fn(site) for every site used so far.
template <typename Fn>
void for_each_site(Fn fn);

namespace internal {
/// Nonzero when credit must go back to the budget rather than stay on
/// CPUs (see reserve.cc); both fast paths read it once.
extern base::Atomic<uint32_t> waiting;
extern CpuCredit credits[arch::kMaxCpus];  // by CPU index

/// This CPU's credit: one GS-relative load of the CPU index. Interrupts off.
inline CpuCredit& this_credit() {
  uint32_t index;
  asm volatile("movl %%gs:%c1, %0" : "=r"(index) : "i"(__builtin_offsetof(arch::PerCpu, index)));
  return credits[index];
}

/// Per class, the credit a CPU keeps after a release: above it the rest
/// goes back to the budget. 16 KiB of each class, as the heap cache keeps,
/// so what one CPU strands is bounded (24 classes: 384 KiB).
inline constexpr uint32_t kKeepBytesPerClass = 16 * 1024;
constexpr Objs make_keep_limit() {
  Objs o{};
  for (unsigned c = 0; c < kObjsClasses; ++c) o[c] = kKeepBytesPerClass / mm::heap_class(c).size;
  return o;
}
inline constexpr Objs kKeepLimit = make_keep_limit();

/// The sparse paths' rare exits, out of line: a take that found a class
/// short puts back the `taken` entries before it; a release that left
/// credit above kKeepLimit gives the excess back. Interrupts off.
[[gnu::noinline]] void sparse_untake(CpuCredit& cc, mm::HeapCharge& acct, const ReserveSite& site, uint32_t taken);
[[gnu::noinline]] void flush_above_keep(CpuCredit& cc);

ReserveSite* sites_head();
/// Has every active CPU give its credit (rt's and its heap account's) back
/// to the budget; what a reserve does before it waits. Tests use it to
/// start from a known budget. Thread context.
void drain_all_cpus();
}  // namespace internal

// The sparse take. Interrupts off from the waiting test on: this CPU's
// credit is ours alone (only its own threads and drains, which also run
// with interrupts off here, touch it), and no switch or migration can
// come between the classes. Each class is compared and taken in one pass;
// a short one undoes the earlier ones (out of line) before anything else
// can see them, so the take is whole or nothing, as objs_take's.
inline bool Reservation::reserve_sparse(ReserveSite& site) {
  const uint32_t n = __atomic_load_n(&site.sparse_n, __ATOMIC_ACQUIRE);
  sched::Thread* t = sched::current();
  if (n == 0 || t->heap_charge != nullptr || t->reserve_cancelled.load(base::MemoryOrder::kRelaxed) != 0) return false;
  const uint64_t irq = arch::irq_save();
  if (internal::waiting.load(base::MemoryOrder::kRelaxed) != 0) {
    arch::irq_restore(irq);
    return false;
  }
  CpuCredit& cc = internal::this_credit();
  mm::HeapCharge& acct = t->reservation;
  for (uint32_t i = 0; i < n; ++i) {
    const unsigned c = site.sparse_cls[i];
    const uint32_t k = site.sparse_cnt[i];
    // Subtract, and undo on a borrow: the same as compare-then-subtract
    // with interrupts off, one memory operation shorter.
    if (__builtin_expect(__builtin_sub_overflow(cc.avail[c], k, &cc.avail[c]), 0)) {
      cc.avail[c] += k;
      internal::sparse_untake(cc, acct, site, i);
      arch::irq_restore(irq);
      return false;
    }
    acct.limit[c] = k;  // the rest of the account is zero already
  }
  ++cc.reserves;
  t->heap_charge = &acct;
  asm volatile("movq %0, %%gs:%c1" ::"r"(&acct), "i"(__builtin_offsetof(arch::PerCpu, heap_charge)) : "memory");
  arch::irq_restore(irq);
  state_ = kSparse;
  return true;
}

// The sparse release of an untouched account: its limit holds exactly the
// site's sparse counts, and used and peak are zero (see HeapCharge::
// touched), so what goes back is those counts, the account is clean again
// once they are zeroed, and no peak can be new. Anything else (touched,
// overrun, someone waiting) takes release_slow.
inline bool Reservation::release_sparse() {
  sched::Thread* t = sched::current();
  mm::HeapCharge& acct = t->reservation;
  const ReserveSite& site = *site_;
  const uint32_t n = site.sparse_n;
  const uint64_t irq = arch::irq_save();
  if (__builtin_expect((acct.touched | acct.overruns | internal::waiting.load(base::MemoryOrder::kRelaxed)) != 0, 0)) {
    arch::irq_restore(irq);
    return false;
  }
  CpuCredit& cc = internal::this_credit();
  bool over_keep = false;
  for (uint32_t i = 0; i < n; ++i) {
    const unsigned c = site.sparse_cls[i];
    const uint32_t a = cc.avail[c] + site.sparse_cnt[i];
    cc.avail[c] = a;
    acct.limit[c] = 0;
    if (__builtin_expect(a > internal::kKeepLimit[c], 0)) over_keep = true;
  }
  t->heap_charge = nullptr;
  asm volatile(
      "movq %%gs:%c0, %%rax\n\t"
      "movq %%rax, %%gs:%c1" ::"i"(__builtin_offsetof(arch::PerCpu, heap_cpu_charge)),
      "i"(__builtin_offsetof(arch::PerCpu, heap_charge))
      : "rax", "memory");
  if (__builtin_expect(over_keep, 0)) internal::flush_above_keep(cc);
  arch::irq_restore(irq);
  state_ = kNone;
  return true;
}

template <typename Fn>
void for_each_site(Fn fn) {
  for (ReserveSite* s = internal::sites_head(); s != nullptr; s = s->next) fn(*s);
}

}  // namespace rt
