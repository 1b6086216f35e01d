// See reserve.h.
#include "src/rt/reserve.h"

#include "src/arch/clock.h"
#include "src/arch/ipi.h"
#include "src/arch/local_apic.h"
#include "src/arch/percpu.h"
#include "src/arch/smp.h"
#include "src/arch/smp_boot.h"
#include "src/arch/trap.h"
#include "src/arch/vectors.h"
#include "src/base/assert.h"
#include "src/base/placement_new.h"
#include "src/mm/fail_inject.h"
#include "src/mm/kmalloc.h"
#include "src/rt/evictable.h"
#include "src/rt/reserve_stats.h"
#include "src/sched/sched.h"
#include "src/sched/sync.h"

namespace rt {

// Nonzero when credit must go back to the budget rather than stay on
// CPUs: the number of waiters queued, plus kOverBudget while the maximum
// was lowered below what is live and held. A reserve that sees it takes
// the slow path (in line, from the budget); a release flushes all its
// credit and wakes the waiters. One word, so each fast path reads it once.
constinit base::Atomic<uint32_t> internal::waiting{0};
CpuCredit internal::credits[arch::kMaxCpus];

namespace {

using base::MemoryOrder;

using internal::kKeepLimit;
using internal::this_credit;
using internal::waiting;

// A waiter's slice: it re-checks the budget this often even unwoken, since
// frees (which credit accounts, not rt) can make room without a release.
constexpr uint64_t kWaitSliceNs = 5'000'000;
// What a reserve asks the caches for at least (see its use).
constexpr uint64_t kEvictSlackBytes = 64 * 1024;
// The head waiter asks the caches and CPUs again this often.
constexpr uint64_t kReclaimEveryNs = 50'000'000;

// The FIFO of waiting reserves.
struct Waiter {
  Waiter* next;
};
constinit sched::Mutex wait_lock;
constinit sched::CondVar wait_cv;
Waiter* wait_head GUARDED_BY(wait_lock) = nullptr;
Waiter** wait_tail GUARDED_BY(wait_lock) = &wait_head;
// Reserves granted after waiting, in grant order (Reservation::waited_turn).
uint64_t waited_grants GUARDED_BY(wait_lock) = 0;
constexpr uint32_t kOverBudget = uint32_t{1} << 31;

constinit base::Atomic<ReserveSite*> sites{nullptr};
// Serializes set_max_heap's read-modify-write of the budget's maximum.
// What it guards is mm's (heap_budget(), atomic), so there is no member
// here to mark GUARDED_BY.
constinit sched::Mutex max_lock;
constinit GlobalResStats global;

void add_relaxed(uint64_t& field, uint64_t n) { __atomic_fetch_add(&field, n, __ATOMIC_RELAXED); }

// The limits a parking of `site` left in the account, cleared (the rest
// of the account is zero already: it was released untouched).
void clear_parked_limits(mm::HeapCharge& acct, const ReserveSite& site) {
  for (uint32_t i = 0; i < site.sparse_count; ++i) acct.limit[site.sparse_cls[i]] = 0;
}

// The exit hook (sched::set_parked_exit_hook): an exiting thread's parked
// credit back to the budget, its account clean for the descriptor's next
// thread, and its count of parked reserves kept.
void give_back_at_exit(sched::Thread* t) {
  if (!internal::parked_of(t).empty()) {
    const auto taken = ParkedCredit<ReserveSite>::decode(internal::parked_of(t).take());
    if (taken.credit) mm::heap_budget().give(static_cast<int64_t>(mm::class_counts_bytes(taken.site->want)));
    clear_parked_limits(t->reservation, *taken.site);
  }
  if (t->reserve_parked_hits != 0) {
    add_relaxed(global.parked_hits_exited, t->reserve_parked_hits);
    t->reserve_parked_hits = 0;
  }
}

void register_site(ReserveSite& site) {
  if (__atomic_load_n(&site.registered, __ATOMIC_ACQUIRE) != 0) return;
  uint32_t expected = 0;
  if (!__atomic_compare_exchange_n(&site.registered, &expected, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) return;
  ReserveSite* head = sites.load(MemoryOrder::kRelaxed);
  do {
    site.next = head;
  } while (!sites.compare_exchange(head, &site, MemoryOrder::kRelease, MemoryOrder::kRelaxed));
  // Listed: the sparse fast path may now skip registering. Not with fault
  // injection armed (armed before mm starts, so before any site): the
  // vector path decides fail.reserve.
  if (site.sparse_count != 0 && site.sparse_count <= ReserveSite::kSparseMax && !mm::fail_armed()) {
    // Only a sparse reservation parks credit in its thread: from here on,
    // a thread that exits must give its parking back.
    sched::set_parked_exit_hook(give_back_at_exit);
    __atomic_store_n(&site.sparse_n, site.sparse_count, __ATOMIC_RELEASE);
  }
}

// Makes `t` charge the reservation just started in t->reservation.
// Interrupts off.
[[gnu::always_inline]] inline void install(sched::Thread* t) {
  t->reservation.overruns = 0;
  t->reservation.touched = 0;
  t->reservation.per_cpu = false;
  t->heap_charge = &t->reservation;
  arch::this_cpu().heap_charge = &t->reservation;
}

// Gives `cc`'s credit above `keep` back to the budget; returns the bytes.
// Interrupts off.
uint64_t flush_above(CpuCredit& cc, const Objs& keep) {
  uint64_t bytes = 0;
  for (unsigned c = 0; c < kObjsClasses; ++c) {
    if (cc.avail[c] <= keep[c]) continue;
    const uint32_t give = cc.avail[c] - keep[c];
    cc.avail[c] = keep[c];
    bytes += uint64_t{give} * mm::heap_class(c).size;
  }
  if (bytes != 0) {
    mm::heap_budget().give(static_cast<int64_t>(bytes));
    ++cc.flushes;
  }
  return bytes;
}

// Everything this CPU holds of the budget, rt's credit and the heap's CPU
// account, back to the budget. Interrupts off: only this CPU touches its
// credit and account, each with interrupts off, so a drain from this
// CPU's own thread or from an interrupt on it sees neither half-changed.
void drain_this_cpu() {
  flush_above(this_credit(), Objs{});
  (void)mm::heap_cpu_charge_flush();
}

// Drains ask CPUs by IPI: a drain bumps drain_gen, sends the IPI, and
// waits until each CPU it asked has stored a generation at least its own
// in drain_done (which only that CPU writes, from the handler). An IPI
// sent while another is pending merges with it (one handler run), which
// is why the handler stores the generation it read rather than counting.
constinit base::Atomic<uint64_t> drain_gen{0};
struct alignas(64) DrainDone {
  base::Atomic<uint64_t> gen{0};
};
DrainDone drain_done[arch::kMaxCpus];

void on_drain_ipi(arch::TrapFrame&) {
  // Acquire: pairs with the drain's increment, which came before its IPI
  // (a store to the ICR is not reordered with older stores, [sdm3] 8.2.2),
  // so the generation read here is at least the asker's.
  const uint64_t gen = drain_gen.load(MemoryOrder::kAcquire);
  drain_this_cpu();
  // Release: the credit is in the budget before the asker sees "done".
  DrainDone& d = drain_done[arch::this_cpu().index.value];
  if (gen > d.gen.load(MemoryOrder::kRelaxed)) d.gen.store(gen, MemoryOrder::kRelease);
  arch::lapic_eoi();
}

// How often a drain looks at the answers: IPIs arrive within microseconds
// on hardware; a host-time vCPU may take a host time slice.
constexpr uint64_t kDrainPollNs = 20'000;

}  // namespace

void internal::drain_init() { arch::set_trap_handler(arch::kVectorIpiRtDrain, on_drain_ipi); }

// Every thread's parked credit is reclaimed, and every CPU that started
// drains itself, from its drain IPI (parked CPUs answer IPIs too: they halt
// with interrupts on). A thread that parks after the walk passed it keeps
// that parking until the next drain (a waiter drains again every
// kReclaimEveryNs), as a CPU keeps what a release gives it after its
// drain.
//
// Drains once spawned a thread pinned to each CPU and joined it, one CPU
// after another: with 16 vCPUs on a busy 2-core host a drain took 170 ms
// on average and up to 15 s (each spawn and join takes the descriptor
// lock, a ticket lock, twice, and every waiter queued behind a vCPU the
// host had preempted), and the torture's gate, which waits for the
// reservers' drains, stayed shut (torture_long_realtime). An IPI takes no
// lock and makes no thread.
void internal::drain_all_cpus() {
  ASSERT_MSG(arch::trap_handler(arch::kVectorIpiRtDrain) == on_drain_ipi, "rt: a drain before drain_init");
  add_relaxed(global.drains, 1);
  const uint64_t start = arch::nanotime();
  // Threads' parkings first (a walk under the thread-list lock: a
  // compare-exchange and a budget add each). The word is the one field a
  // reclaimer writes, by its protocol, hence the const_cast.
  (void)sched::for_each_thread(
      [](const sched::Thread& t, void*) { (void)reclaim_parked(const_cast<sched::Thread*>(&t)); }, nullptr);
  const uint32_t n = arch::cpus_online();
  // This CPU in place; the others by IPI, sent from here with interrupts
  // off so that "here" stays this CPU.
  const uint64_t irq = arch::irq_save();
  const uint32_t self = arch::this_cpu().index.value;
  drain_this_cpu();
  const uint64_t gen = drain_gen.fetch_add(1, MemoryOrder::kAcqRel) + 1;
  for (uint32_t cpu = 0; cpu < n; ++cpu) {
    if (cpu != self && (cpu == 0 || arch::ap_is_online(arch::CpuIndex(cpu))))
      (void)arch::send_ipi(arch::CpuIndex(cpu), arch::kVectorIpiRtDrain);
  }
  arch::irq_restore(irq);
  // A CPU answers unless its interrupts stay off, which the lockup
  // watchdog reports; so this waits without a bound.
  for (uint32_t cpu = 0; cpu < n; ++cpu) {
    if (cpu == self || (cpu != 0 && !arch::ap_is_online(arch::CpuIndex(cpu)))) continue;
    while (drain_done[cpu].gen.load(MemoryOrder::kAcquire) < gen) sched::sleep_for(kDrainPollNs);
  }
  const uint64_t took = arch::nanotime() - start;
  add_relaxed(global.drain_ns, took);
  uint64_t longest = __atomic_load_n(&global.drain_max_ns, __ATOMIC_RELAXED);
  while (took > longest && !__atomic_compare_exchange_n(&global.drain_max_ns, &longest, took, false, __ATOMIC_RELAXED,
                                                        __ATOMIC_RELAXED)) {
  }
}

namespace {

// Bytes the budget must supply for `want` beyond this CPU's credit, by
// class in `mask`. Interrupts off.
uint64_t shortfall_bytes(const CpuCredit& cc, const Objs& want, ObjsMask mask) {
  uint64_t bytes = 0;
  for (unsigned c = 0; c < kObjsClasses; ++c) {
    if (mask & (1u << c)) bytes += uint64_t{want[c] - cc.avail[c]} * mm::heap_class(c).size;
  }
  return bytes;
}

// Takes `want` from this CPU's credit into `acct` (started: limit = want),
// robbing the budget for the classes the credit lacks; false (nothing
// changed) if the budget cannot cover them. Never takes more than exists.
// Interrupts off, which also makes the vector registers ours as a
// SimdRegion would (no switch can happen, and handlers use none), without
// its cost.
bool take_credit(CpuCredit& cc, const Objs& want, ObjsAccount& acct) {
  if (objs_take(cc.avail, want, acct)) return true;
  const ObjsMask mask = objs_cmp(want, cc.avail);
  if (!mm::heap_budget().try_take(static_cast<int64_t>(shortfall_bytes(cc, want, mask)))) return false;
  for (unsigned c = 0; c < kObjsClasses; ++c) {
    if (mask & (1u << c)) cc.avail[c] = want[c];
  }
  ++cc.robs;
  const bool taken = objs_take(cc.avail, want, acct);
  DEBUG_ASSERT(taken);
  return taken;
}

// Puts `me` at the back of the line; returns true (it is queued).
bool enqueue(Waiter* me) REQUIRES(wait_lock) {
  *wait_tail = me;
  wait_tail = &me->next;
  waiting.fetch_add(1, MemoryOrder::kRelaxed);
  return true;
}

void dequeue(Waiter* me) REQUIRES(wait_lock) {
  for (Waiter** p = &wait_head; *p != nullptr; p = &(*p)->next) {
    if (*p != me) continue;
    *p = me->next;
    if (wait_tail == &me->next) wait_tail = p;
    waiting.fetch_sub(1, MemoryOrder::kRelaxed);
    wait_cv.broadcast();  // the next in line may now go
    return;
  }
}

// What a finished reservation measured, into its site: the per-class
// maximum (compare-exchange, as other CPUs merge too) and its overruns.
[[gnu::noinline]] void merge_into_site(ReserveSite& site, const mm::HeapCharge& acct, ObjsMask new_peak) {
  for (unsigned c = 0; c < kObjsClasses; ++c) {
    if ((new_peak & (1u << c)) == 0) continue;
    uint32_t seen = __atomic_load_n(&site.peak.n[c], __ATOMIC_RELAXED);
    while (acct.peak[c] > seen && !__atomic_compare_exchange_n(&site.peak.n[c], &seen, acct.peak[c], false,
                                                               __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
  }
  if (acct.overruns != 0) add_relaxed(site.overruns, acct.overruns);
}

bool take_cancel(sched::Thread* t) { return t->reserve_cancelled.exchange(0, MemoryOrder::kAcqRel) != 0; }

}  // namespace

namespace internal {
ReserveSite* sites_head() { return sites.load(MemoryOrder::kAcquire); }
const CpuCredit& cpu_credit(uint32_t cpu) { return credits[cpu]; }
const GlobalResStats& global_stats() { return global; }
}  // namespace internal

void internal::sparse_untake(CpuCredit& cc, mm::HeapCharge& acct, const ReserveSite& site, uint32_t taken) {
  for (uint32_t i = 0; i < taken; ++i) {
    cc.avail[site.sparse_cls[i]] += site.sparse_cnt[i];
    acct.limit[site.sparse_cls[i]] = 0;
  }
}

void internal::flush_above_keep(CpuCredit& cc) { (void)flush_above(cc, kKeepLimit); }

// With interrupts off, so that the credit lands on the CPU whose credit
// block this is; to the budget instead while someone waits, where a
// waiter can find it.
void internal::unpark(sched::Thread* t, uintptr_t word) {
  const auto taken = ParkedCredit<ReserveSite>::decode(word);
  const ReserveSite& site = *taken.site;
  const uint64_t irq = arch::irq_save();
  if (taken.credit) {
    if (waiting.load(MemoryOrder::kRelaxed) != 0) {
      mm::heap_budget().give(static_cast<int64_t>(mm::class_counts_bytes(site.want)));
    } else {
      CpuCredit& cc = this_credit();
      bool over_keep = false;
      for (uint32_t i = 0; i < site.sparse_count; ++i) {
        const unsigned c = site.sparse_cls[i];
        cc.avail[c] += site.sparse_cnt[i];
        over_keep |= cc.avail[c] > kKeepLimit[c];
      }
      if (over_keep) flush_above_keep(cc);
    }
  }
  clear_parked_limits(t->reservation, site);
  arch::irq_restore(irq);
}

uint64_t internal::reclaim_parked(sched::Thread* t) {
  ReserveSite* site = parked_of(t).reclaim();
  if (site == nullptr) return 0;
  const uint64_t bytes = mm::class_counts_bytes(site->want);
  mm::heap_budget().give(static_cast<int64_t>(bytes));
  add_relaxed(global.parked_reclaims, 1);
  return bytes;
}

// The sparse take, once reserve_parked found no parking of this site (and
// settled any other). Interrupts off from the waiting test on: this CPU's
// credit is ours alone (only its own threads and drains, which also run
// with interrupts off here, touch it), and no switch or migration can
// come between the classes. Each class is compared and taken in one pass;
// a short one undoes the earlier ones (out of line) before anything else
// can see them, so the take is whole or nothing, as objs_take's.
bool Reservation::reserve_sparse(ReserveSite& site) {
  const uint32_t n = __atomic_load_n(&site.sparse_n, __ATOMIC_ACQUIRE);
  sched::Thread* t = sched::current();
  if (n == 0 || t->heap_charge != nullptr || t->reserve_cancelled.load(MemoryOrder::kRelaxed) != 0) return false;
  const uint64_t irq = arch::irq_save();
  if (waiting.load(MemoryOrder::kRelaxed) != 0) {
    arch::irq_restore(irq);
    return false;
  }
  CpuCredit& cc = this_credit();
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

// An explicit want starts the account whole: credit parked in it goes to
// this CPU first (the site constructor's reserve_parked does the same).
void Reservation::reserve_want(const Objs& want, ReserveWait wait) {
  sched::Thread* t = sched::current();
  if (__builtin_expect(!internal::parked_of(t).empty(), 0)) internal::unpark(t, internal::parked_of(t).take());
  reserve_vector(want, wait);
}

// The vector path: a site seen before, no cancel pending, no reservation
// held (nesting saves it first), nobody waiting ahead, and this CPU's
// credit covers `want`: one fused compare-and-take, no lock, no shared
// write. Otherwise the slow path.
void Reservation::reserve_vector(const Objs& want, ReserveWait wait) {
  if (mm::fail_armed() && injected_failure()) return;
  ReserveSite& site = *site_;
  sched::Thread* t = sched::current();
  if (__builtin_expect(__atomic_load_n(&site.registered, __ATOMIC_RELAXED) != 0 && t->heap_charge == nullptr &&
                           t->reserve_cancelled.load(MemoryOrder::kRelaxed) == 0,
                       1)) {
    const uint64_t irq = arch::irq_save();
    CpuCredit& cc = this_credit();
    if (__builtin_expect(waiting.load(MemoryOrder::kRelaxed) == 0 && objs_take(cc.avail, want, t->reservation), 1)) {
      ++cc.reserves;
      install(t);
      arch::irq_restore(irq);
      state_ = kVector;
      return;
    }
    arch::irq_restore(irq);
  }
  reserve_slow(t, want, wait);
}

// An injected failure (fail.reserve): the status a reserve that may not
// wait gets when no credit covers it, counted as the site's failure; the
// fault counters (mm::fail_inject_counts) tell it from a real one.
bool Reservation::injected_failure() {
  if (!mm::fail_inject_now(mm::FaultSite::kReserve)) return false;
  register_site(*site_);
  status_ = base::Error::kOutOfMemory;
  add_relaxed(site_->failures, 1);
  return true;
}

void Reservation::reserve_slow(sched::Thread* t, const Objs& want, ReserveWait wait) {
  ReserveSite& site = *site_;
  register_site(site);
  if (t->reserve_cancelled.load(MemoryOrder::kRelaxed) != 0 && take_cancel(t)) {
    status_ = base::Error::kCancelled;
    add_relaxed(site.failures, 1);
    add_relaxed(global.cancels, 1);
    return;
  }
  // In line behind earlier waiters, make room, wait. The enclosing
  // reservation's counts (if any) are saved when this one is granted, with
  // interrupts off: until then its allocations here still count to it.
  const uint64_t start = arch::nanotime();
  const uint64_t deadline = wait.timeout_ns == ReserveWait::kForever ? ~uint64_t{0} : start + wait.timeout_ns;
  Waiter me{nullptr};
  bool queued = false, counted_wait = false;
  uint64_t last_reclaim = 0;
  sched::MutexGuard g(wait_lock);
  for (;;) {
    if (take_cancel(t)) {
      status_ = base::Error::kCancelled;
      add_relaxed(global.cancels, 1);
      break;
    }
    if (!queued && wait_head != nullptr) queued = enqueue(&me);
    if (!queued || wait_head == &me) {
      const uint64_t irq = arch::irq_save();
      CpuCredit& cc = this_credit();
      nested_ = t->heap_charge != nullptr;
      if (nested_) new (&outer_.charge) mm::HeapCharge(t->reservation);
      const bool got = take_credit(cc, want, t->reservation);
      if (got) {
        ++cc.reserves;
        install(t);
      }
      arch::irq_restore(irq);
      if (got) {
        state_ = kVector;
        if (counted_wait) waited_turn_ = ++waited_grants;
        break;
      }
    }
    const uint64_t now = arch::nanotime();
    // Make room: caches first, then what CPUs hold (the head only, and not
    // too often: each drain visits every CPU).
    if ((!queued || wait_head == &me) && (last_reclaim == 0 || now - last_reclaim >= kReclaimEveryNs)) {
      last_reclaim = now;
      // In line first: a reserve arriving while this one reclaims (the lock
      // dropped) then queues behind it instead of finding the line empty,
      // taking what the reclaim frees and doing a reclaim of its own.
      if (!queued) queued = enqueue(&me);
      wait_lock.unlock();
      // The shortfall twice over, and at least kEvictSlackBytes: while the
      // caches free, CPUs' own accounts may refill from the budget.
      const uint64_t short_bytes = class_counts_bytes(want);
      const uint64_t evicted = evict(2 * short_bytes > kEvictSlackBytes ? 2 * short_bytes : kEvictSlackBytes);
      if (evicted != 0) add_relaxed(global.evicted_bytes, evicted);
      internal::drain_all_cpus();
      // From the reclaim's end: one that took longer than kReclaimEveryNs
      // (a drain visits every CPU, slow on a loaded host) must not start
      // the next at once, which skipped the deadline below for as long as
      // the take kept failing — a reserve that may not wait drained back
      // to back for seconds.
      last_reclaim = arch::nanotime();
      wait_lock.lock();
      continue;
    }
    if (now >= deadline) {
      status_ = wait.timeout_ns == 0 ? base::Error::kOutOfMemory : base::Error::kTimedOut;
      add_relaxed(wait.timeout_ns == 0 ? global.out_of_memory : global.timeouts, 1);
      break;
    }
    if (!queued) queued = enqueue(&me);
    if (!counted_wait) {
      counted_wait = true;
      add_relaxed(global.waits, 1);
    }
    const uint64_t left = deadline - now;
    (void)wait_cv.wait_for(wait_lock, left < kWaitSliceNs ? left : kWaitSliceNs);
  }
  if (queued) dequeue(&me);
  // A budget made whole again by frees alone (no release saw it) stops
  // sending every reserve down this path here.
  if ((waiting.load(MemoryOrder::kRelaxed) & kOverBudget) != 0 && mm::heap_budget().left() >= 0)
    waiting.fetch_and(~kOverBudget, MemoryOrder::kRelaxed);
  if (counted_wait) add_relaxed(global.wait_ns, arch::nanotime() - start);
  if (!status_.ok()) add_relaxed(site.failures, 1);
}

// Every release but the sparse one of an untouched account. A sparse
// reservation settles only the classes it reserved or touched (no other
// class of its account is nonzero: see HeapCharge::touched); a vector one
// settles all of them with objs_give. Either way the account is then
// cleared where it may be nonzero, so that it is all zero again for the
// next sparse reserve (a nested one gets its outer's counts back instead).
void Reservation::release_slow() {
  const bool sparse = state_ == kSparse;
  state_ = kNone;
  sched::Thread* t = sched::current();
  mm::HeapCharge& acct = t->reservation;
  const uint64_t irq = arch::irq_save();
  // Interrupts off: this CPU's credit is ours, and so are the vector
  // registers (see take_credit).
  CpuCredit& cc = this_credit();
  ObjsMask dirty;
  ObjsGive g{0, 0};
  if (sparse) {
    dirty = site_->want_mask | acct.touched;
    for (ObjsMask m = dirty; m != 0; m &= m - 1) {
      const unsigned c = static_cast<unsigned>(__builtin_ctz(m));
      cc.avail[c] += acct.limit[c] - acct.used[c];
      if (cc.avail[c] > kKeepLimit[c]) g.over_keep |= ObjsMask{1} << c;
      if (acct.peak[c] > __atomic_load_n(&site_->peak.n[c], __ATOMIC_RELAXED)) g.new_peak |= ObjsMask{1} << c;
    }
  } else {
    dirty = 0;  // any class: cleared below by the vector unit
    g = objs_give(cc.avail, acct, kKeepLimit, site_->peak);
  }
  bool wake = false;
  if (const uint32_t w = waiting.load(MemoryOrder::kRelaxed); __builtin_expect(w != 0, 0)) {
    wake = flush_above(cc, Objs{}) != 0 && (w & ~kOverBudget) != 0;
    if ((w & kOverBudget) != 0 && mm::heap_budget().left() >= 0) waiting.fetch_and(~kOverBudget, MemoryOrder::kRelaxed);
  } else if (__builtin_expect(g.over_keep != 0, 0)) {
    (void)flush_above(cc, kKeepLimit);
  }
  if (__builtin_expect(g.new_peak != 0 || acct.overruns != 0, 0)) merge_into_site(*site_, acct, g.new_peak);
  if (__builtin_expect(nested_, 0)) {
    t->reservation = outer_.charge;
    outer_.charge.~HeapCharge();
    nested_ = false;
  } else {
    if (sparse) {
      for (ObjsMask m = dirty; m != 0; m &= m - 1) {
        const unsigned c = static_cast<unsigned>(__builtin_ctz(m));
        acct.limit[c] = acct.used[c] = acct.peak[c] = 0;
      }
    } else {
      // A take of nothing: compares nothing it can miss, leaves `avail` as
      // it is, and starts the account empty (limit, used, peak all zero)
      // in one vector pass, where clearing class by class costs ~7
      // instructions per class.
      const bool cleared = objs_take(cc.avail, Objs{}, acct);
      DEBUG_ASSERT(cleared);
      (void)cleared;
    }
    acct.touched = 0;
    acct.overruns = 0;
    t->heap_charge = nullptr;
    arch::PerCpu& pc = arch::this_cpu();
    pc.heap_charge = pc.heap_cpu_charge;
  }
  arch::irq_restore(irq);
  if (wake) {
    sched::MutexGuard lock(wait_lock);
    wait_cv.broadcast();
  }
}

void cancel_reserve(sched::Thread* t) {
  t->reserve_cancelled.store(1, MemoryOrder::kRelease);
  add_relaxed(global.cancel_requests, 1);
  sched::MutexGuard g(wait_lock);
  wait_cv.broadcast();
}

base::Status set_max_heap(uint64_t bytes) {
  if (bytes == 0 || bytes > static_cast<uint64_t>(mm::kHeapBootBudget)) return base::Error::kInvalidArgument;
  bool lowered;
  {
    sched::MutexGuard g(max_lock);
    // The first maximum replaces the boot budget, which no credit was
    // taken against as a limit: nothing to drain then.
    const int64_t old = mm::heap_budget().max();
    lowered = static_cast<int64_t>(bytes) < old && old != mm::kHeapBootBudget;
    mm::heap_budget().set_max(static_cast<int64_t>(bytes));
    if (mm::heap_budget().left() < 0) waiting.fetch_or(kOverBudget, MemoryOrder::kRelaxed);
  }
  // Credit the CPUs hold was taken under the old maximum: it goes back, so
  // a lower one binds at once instead of after that credit is spent; and
  // while the budget stays negative, releases give back what they free.
  if (lowered) {
    waiting.fetch_or(kOverBudget, MemoryOrder::kRelaxed);
    internal::drain_all_cpus();
    if (mm::heap_budget().left() >= 0) waiting.fetch_and(~kOverBudget, MemoryOrder::kRelaxed);
  }
  sched::MutexGuard g(wait_lock);
  wait_cv.broadcast();
  return base::Status::Ok();
}

}  // namespace rt
