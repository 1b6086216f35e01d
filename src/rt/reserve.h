// Heap reservations (Biscuit's Res_t): an operation reserves, per heap size
// class, the objects it may allocate, before it starts; it then either gets
// them or a clear out-of-memory, timeout or cancelled status — never a
// failure half way through. Its allocations are charged to the reservation
// (mm/heap_charge.h); release() hands back what it did not use.
//
// Credit flows between three places, and the heap budget stays exact:
//  - the heap budget (mm::HeapBudget): what nobody holds;
//  - each CPU's credit (`avail`): taken by a reserve that it covers with one
//    objs_cmp and no lock or shared write; refilled by robbing the budget
//    class by class, and flushed back above a limit or when someone waits;
//  - the reservations of running operations, in their threads' blocks.
//
// A reserve the budget cannot cover first asks the registered caches to
// shrink (evictable.h) and the other CPUs to flush their credit, then waits
// in FIFO order, so a large request is not starved by later small ones.
//
// Kernel only. Thread context, interrupts on, no spinlock held (a reserve
// may wait); release() never waits.
#pragma once

#include "src/base/atomic.h"
#include "src/base/result.h"
#include "src/base/types.h"
#include "src/rt/objs.h"
#include "src/sched/thread.h"

namespace rt {

/// A kind of operation that reserves: names it in `res sites` and records
/// what its operations really used, so its reservation can be sized from
/// measurement (Biscuit sized them by static analysis). Static storage;
/// registered on first use.
struct ReserveSite {
  constexpr ReserveSite(const char* site_name, const Objs& site_want) : name(site_name), want(site_want) {}
  ReserveSite(const ReserveSite&) = delete;
  ReserveSite& operator=(const ReserveSite&) = delete;

  const char* name;
  Objs want;  ///< What its operations reserve (Reservation's default).

  // Measured (relaxed atomics via __atomic builtins on plain fields, so
  // the site stays constexpr-constructible).
  Objs peak{};                ///< Highest per-class use any operation reached.
  uint64_t overruns = 0;      ///< Allocations past the reservation.
  uint64_t failures = 0;      ///< Out of memory, timed out or cancelled.
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
class Reservation {
 public:
  /// Reserves `site.want`, or `want`.
  explicit Reservation(ReserveSite& site, ReserveWait wait = {}) : Reservation(site, site.want, wait) {}
  Reservation(ReserveSite& site, const Objs& want, ReserveWait wait = {});
  ~Reservation() { release(); }
  Reservation(const Reservation&) = delete;
  Reservation& operator=(const Reservation&) = delete;

  /// Ok once granted; kOutOfMemory (nothing to wait for, or timeout 0),
  /// kTimedOut or kCancelled otherwise.
  base::Status status() const { return status_; }
  bool ok() const { return status_.ok(); }

  /// Hands back what was not used (idempotent; the destructor calls it).
  void release();

 private:
  void reserve_slow(sched::Thread* t, const Objs& want, ReserveWait wait);

  ReserveSite* site_;
  base::Status status_;
  bool held_ = false;
  bool nested_ = false;
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
ReserveSite* sites_head();
/// Has every active CPU give its credit (rt's and its heap account's) back
/// to the budget; what a reserve does before it waits. Tests use it to
/// start from a known budget. Thread context.
void drain_all_cpus();
}  // namespace internal

template <typename Fn>
void for_each_site(Fn fn) {
  for (ReserveSite* s = internal::sites_head(); s != nullptr; s = s->next) fn(*s);
}

}  // namespace rt
