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
//  - the reservations of running operations, in their threads' blocks;
//  - credit parked in a thread between reservations of one sparse site
//    (parked_credit.h): its account keeps the site's limits, so the next
//    reservation of that site only installs it. Reclaimed for waiters,
//    drains, set_max_heap and cancel_reserve, and given back at exit.
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
#include "src/rt/parked_credit.h"
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
/// Three ways in, all lock-free:
///  - parked (inline, the common case): the thread's last reservation was
///    of the same sparse site, released untouched; it parked the credit in
///    the thread instead of giving it back (release_sparse), so this one
///    takes the parking word back with one exchange and installs the
///    account, which still holds the site's limits: no class is touched.
///    Its release parks again. Migration does not matter: the credit is the
///    thread's, not a CPU's.
///  - sparse (out of line): a registered site whose want names
///    at most kSparseMax classes, no reservation held, no cancel pending,
///    nobody waiting: those classes are compared and taken one by one with
///    interrupts off, and written into the thread's account, which is kept
///    all zero between reservations (release clears what it touched), so
///    nothing else needs writing. Its release, when the account is
///    untouched (`touched` and `overruns` zero: nothing allocated or freed,
///    so used and peak are still zero) and nobody waits, parks it.
///  - vector (dense wants, an explicit want, nesting): one fused objs_take
///    compares all classes and starts the account; release settles it with
///    objs_give. Both fall back to the slow path (robbing the budget,
///    waiting) when the credit does not cover the want.
class Reservation {
 public:
  /// Reserves `site.want`, or `want`.
  [[gnu::always_inline]] explicit Reservation(ReserveSite& site, ReserveWait wait = {}) : site_(&site) {
    if (__builtin_expect(reserve_parked(site), 1)) return;
    // Not parked: the sparse take when the site allows it (registered, a
    // few classes), else the vector path.
    if (__atomic_load_n(&site.sparse_n, __ATOMIC_ACQUIRE) != 0 && reserve_sparse(site)) return;
    reserve_vector(site.want, wait);
  }
  Reservation(ReserveSite& site, const Objs& want, ReserveWait wait = {}) : site_(&site) { reserve_want(want, wait); }
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

  /// Whether it was granted by the sparse or the parked path (for tests).
  bool sparse() const { return state_ == kSparse; }

  /// For a reserve that waited and was granted: its place among all such
  /// grants since boot (1, 2, ...), counted where the grant is made, under
  /// the wait line's lock, so it is the true order; 0 otherwise.
  uint64_t waited_turn() const { return waited_turn_; }

 private:
  enum State : uint8_t { kNone, kSparse, kVector };

  [[gnu::always_inline]] inline bool reserve_parked(ReserveSite& site);
  bool reserve_sparse(ReserveSite& site);
  void reserve_want(const Objs& want, ReserveWait wait);
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
/// Has every CPU that started (offline ones too) give its credit (rt's and
/// its heap account's) back to the budget, by IPI, and every thread its
/// parked credit; what a reserve does before it waits. Tests use it to
/// start from a known budget. Thread context.
void drain_all_cpus();
/// Installs the drain IPI's handler; res_init calls it before any drain.
void drain_init();

/// The calling thread's parking word (parked_credit.h).
inline ParkedCredit<ReserveSite> parked_of(sched::Thread* t) { return ParkedCredit<ReserveSite>(t->reserve_parked); }
/// Settles what a take of the calling thread's parking word returned
/// (`word`, not the site the caller wants): credit still parked goes to
/// this CPU, and the account's limits of its site are cleared, so the
/// account is all zero again. Thread context.
[[gnu::noinline]] void unpark(sched::Thread* t, uintptr_t word);
/// Takes `t`'s parked credit back to the budget, if it has any; returns
/// its bytes. Any thread (and `t` may be running); thread context.
uint64_t reclaim_parked(sched::Thread* t);
}  // namespace internal

// The parked path: no interrupts off, no per-CPU state read, and nothing
// but the thread's own block and its CPU block written. The exchange
// makes the credit ours (a reclaimer can no longer get it) before the
// account is used; the cancel flag is read after it, so a cancel_reserve
// that this reserve does not see came after it, and hits the next one.
// Preemption may come between the two stores: a switch installs
// t->heap_charge in whichever CPU block we resume on, and the second store
// writes the same value from a register, so every CPU block ends right.
// (Interrupt handlers charge their CPU's own account: see trap.cc.)
inline bool Reservation::reserve_parked(ReserveSite& site) {
  sched::Thread* t = sched::current();
  const uintptr_t word = internal::parked_of(t).take();
  if (__builtin_expect(word != reinterpret_cast<uintptr_t>(&site), 0) ||
      __builtin_expect(t->reserve_cancelled.load(base::MemoryOrder::kRelaxed) != 0, 0)) {
    if (word != 0) internal::unpark(t, word);
    return false;
  }
  mm::HeapCharge* acct = &t->reservation;
  t->heap_charge = acct;
  asm volatile("movq %0, %%gs:%c1" ::"r"(acct), "i"(__builtin_offsetof(arch::PerCpu, heap_charge)) : "memory");
  ++t->reserve_parked_hits;
  state_ = kSparse;
  return true;
}

// The release of an untouched sparse account: its limit holds exactly the
// site's sparse counts, and used and peak are zero (see HeapCharge::
// touched), so it is parked as it stands, for the next reservation of the
// site (see reserve_parked), unless someone waits for credit (a pending
// cancel is seen by the next reserve). Anything else takes release_slow.
//
// No interrupts off: after t->heap_charge is cleared, this CPU's own
// account must go into the CPU block, a load and a store that a migration
// could separate (storing the old CPU's account into the new one's block).
// So the store is checked against the CPU we are on after it, and redone
// if that moved: a wrong value is then visible only to interrupt handlers,
// which charge their CPU's own account regardless (trap.cc), and a switch
// rewrites the block of every CPU we leave or arrive on.
inline bool Reservation::release_sparse() {
  sched::Thread* t = sched::current();
  const mm::HeapCharge& acct = t->reservation;
  if (__builtin_expect((acct.touched | acct.overruns | internal::waiting.load(base::MemoryOrder::kRelaxed)) != 0, 0))
    return false;
  t->heap_charge = nullptr;
  uint64_t scratch;
  asm volatile(
      "1:\n\t"
      "movq %%gs:%c1, %0\n\t"
      "movq %0, %%gs:%c2\n\t"
      "cmpq %%gs:%c1, %0\n\t"
      "jne 1b"
      : "=&r"(scratch)
      : "i"(__builtin_offsetof(arch::PerCpu, heap_cpu_charge)), "i"(__builtin_offsetof(arch::PerCpu, heap_charge))
      : "cc", "memory");
  internal::parked_of(t).park(site_);
  state_ = kNone;
  return true;
}

template <typename Fn>
void for_each_site(Fn fn) {
  for (ReserveSite* s = internal::sites_head(); s != nullptr; s = s->next) fn(*s);
}

}  // namespace rt
