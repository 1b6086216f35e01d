// Heap charging: every small allocation is charged to an account, per size
// class, and every free credits the account of whoever frees. An account is
// either a thread's reservation (rt fills its limit; going past it is an
// overrun) or a CPU's own account for allocations outside any reservation
// (boot, interrupt context, threads holding none), which refills itself from
// the heap budget in batches.
//
// The budget is exact, with no estimate: for the whole kernel, at any
// quiescent moment,
//
//   max heap = budget left (HeapBudget) + credit held by rt (per CPU)
//            + sum over accounts of (limit - used) objects
//            + live bytes (the heap's own per-class counters, large objects)
//
// since an allocation moves one object from an account's credit to live, a
// free moves it back, and credit only ever moves between the budget, rt and
// accounts. Pure logic, host-tested; the kernel's use is in kmalloc.cc.
#pragma once

#include "src/base/atomic.h"
#include "src/base/types.h"
#include "src/mm/heap_class_counts.h"
#include "src/mm/heap_size_classes.h"

namespace mm {

/// What heap allocations are charged to. Counters are uint32 with int32
/// meaning: `used` goes negative when the holder frees more than it
/// allocated (objects someone else allocated), which is credit, and a CPU
/// account's `limit` follows it down when trimmed.
///
/// Contexts: a CPU account is touched only by its CPU with interrupts off;
/// a thread's only by that thread (kmalloc runs with interrupts off, so an
/// interrupt handler never sees it half updated).
struct HeapCharge : HeapAccountCounts {
  uint32_t overruns = 0;  ///< Allocations past `limit` (reservations only).
  /// Bit c set once class c was freed, or allocated past its peak, since
  /// the account started: a superset of the classes whose `used` or `peak`
  /// is nonzero (a class's first allocation always passes a zero peak). So
  /// rt settles and clears a reservation touching only those classes and
  /// its own, not all 24, and knows an untouched one used nothing.
  uint32_t touched = 0;
  bool per_cpu = false;  ///< A CPU's own account: refills instead of overrunning.

  /// Starts a reservation of `limit` objects: nothing used yet.
  void reset_for(const HeapClassCounts& new_limit) {
    limit = new_limit;
    used = HeapClassCounts{};
    peak = HeapClassCounts{};
    overruns = 0;
    touched = 0;
    per_cpu = false;
  }

  /// (limit - used) of class `cls`: what the account may still allocate.
  int64_t credit(unsigned cls) const {
    return int64_t{static_cast<int32_t>(limit[cls])} - static_cast<int32_t>(used[cls]);
  }
  /// Bytes of credit over all classes (negative only mid-update).
  int64_t credit_bytes() const {
    int64_t b = 0;
    for (unsigned c = 0; c < kHeapNumClasses; ++c) b += credit(c) * heap_class(c).size;
    return b;
  }
};

/// Charges one allocation of class `cls`. True when the slow path must run:
/// `used` passed `limit` (a CPU account refills, a reservation overran).
/// Three loads, two stores and two branches in the common case: a new peak
/// is stored, an old one is not.
[[gnu::always_inline]] inline bool heap_charge_alloc(HeapCharge& c, unsigned cls) {
  const int32_t u = static_cast<int32_t>(c.used[cls]) + 1;
  c.used[cls] = static_cast<uint32_t>(u);
  if (__builtin_expect(u <= static_cast<int32_t>(c.peak[cls]), 1)) return false;
  c.peak[cls] = static_cast<uint32_t>(u);
  c.touched |= uint32_t{1} << cls;  // off the common path: only past a peak
  return u > static_cast<int32_t>(c.limit[cls]);
}

/// Credits one free of class `cls` to `c` (whoever allocated it), and marks
/// the class touched. BTS with a register bit offset into memory (the
/// bit-string form, [sdm2] "BTS"): one instruction where the C form takes
/// three (load, shift-and-or, store); cls < 32 keeps it inside `touched`.
[[gnu::always_inline]] inline void heap_charge_free(HeapCharge& c, unsigned cls) {
  static_assert(kHeapNumClasses <= 32, "touched has one bit per class");
  c.used[cls] -= 1;
  asm("btsl %1, %0" : "+m"(c.touched) : "r"(cls) : "cc");
}

/// The heap budget: bytes not yet promised to anyone (Biscuit's central
/// reservation pool). Negative when the maximum was lowered below what is
/// live and promised, or when allocations that must not fail (a CPU
/// account's refill, an overrun, a large object) took more than was left:
/// then nothing can be reserved until frees and releases bring it back.
/// Any context but NMI; lock-free.
class HeapBudget {
 public:
  /// Starts with `max_bytes`, nothing promised.
  constexpr explicit HeapBudget(int64_t max_bytes) : max_(max_bytes), left_(max_bytes) {}

  /// Takes `bytes` if that many are left; false (nothing taken) otherwise.
  bool try_take(int64_t bytes) {
    int64_t left = left_.load(base::MemoryOrder::kRelaxed);
    do {
      if (left < bytes) return false;
    } while (!left_.compare_exchange(left, left - bytes, base::MemoryOrder::kAcqRel, base::MemoryOrder::kRelaxed));
    return true;
  }
  /// Takes `bytes` even if the budget goes negative (what must not fail).
  void force_take(int64_t bytes) { left_.fetch_sub(bytes, base::MemoryOrder::kAcqRel); }
  /// Returns `bytes` (freed, released or flushed).
  void give(int64_t bytes) { left_.fetch_add(bytes, base::MemoryOrder::kAcqRel); }

  /// Changes the maximum to `max_bytes`; the difference goes to (or comes
  /// from) what is left, so lowering it under load may leave it negative.
  /// Callers serialise set_max (rt holds its lock).
  void set_max(int64_t max_bytes) {
    const int64_t old = max_.load(base::MemoryOrder::kRelaxed);
    max_.store(max_bytes, base::MemoryOrder::kRelaxed);
    left_.fetch_add(max_bytes - old, base::MemoryOrder::kAcqRel);
  }

  int64_t left() const { return left_.load(base::MemoryOrder::kAcquire); }
  int64_t max() const { return max_.load(base::MemoryOrder::kRelaxed); }

 private:
  base::Atomic<int64_t> max_;
  base::Atomic<int64_t> left_;
};

/// After a CPU account's limit was lowered: its peak goes no higher than
/// the limit, or heap_charge_alloc (which looks at the limit only past a
/// new peak) would let `used` pass the limit unseen. A reservation's limit
/// never goes down, so its peak stays what it measured.
inline void heap_charge_clamp_peak(HeapCharge& c, unsigned cls) {
  if (static_cast<int32_t>(c.peak[cls]) > static_cast<int32_t>(c.limit[cls])) c.peak[cls] = c.limit[cls];
}

/// Objects a CPU account takes from the budget when it runs dry: the heap
/// cache's refill batch, so refills are as rare as the cache's.
inline uint32_t heap_charge_refill_batch(unsigned cls) { return heap_class(cls).cache_cap; }

/// The slow path of a CPU account whose `used` passed `limit` in `cls`:
/// takes a batch from the budget (never failing: allocations outside
/// reservations are limited by memory, not by the budget, and counted).
inline void heap_charge_refill(HeapCharge& c, unsigned cls, HeapBudget& budget) {
  const uint32_t batch = heap_charge_refill_batch(cls);
  budget.force_take(int64_t{batch} * heap_class(cls).size);
  c.limit[cls] += batch;
}

/// Gives a CPU account's credit in `cls` above `keep` objects back to the
/// budget; returns the bytes given.
inline int64_t heap_charge_give_back(HeapCharge& c, unsigned cls, HeapBudget& budget, int64_t keep) {
  const int64_t give = c.credit(cls) - keep;
  if (give <= 0) return 0;
  c.limit[cls] -= static_cast<uint32_t>(give);
  heap_charge_clamp_peak(c, cls);
  const int64_t bytes = give * heap_class(cls).size;
  budget.give(bytes);
  return bytes;
}

/// Hands a CPU account's credit in `cls` above two batches back to the
/// budget (after frees of objects allocated elsewhere), keeping one batch.
inline void heap_charge_trim(HeapCharge& c, unsigned cls, HeapBudget& budget) {
  const int64_t batch = heap_charge_refill_batch(cls);
  if (c.credit(cls) > 2 * batch) (void)heap_charge_give_back(c, cls, budget, batch);
}

/// The slow path of a reservation that allocated past its limit: the
/// allocation still succeeds, paid from the budget (possibly into the
/// negative) so the accounting stays exact.
inline void heap_charge_overrun(HeapCharge& c, unsigned cls, HeapBudget& budget) {
  budget.force_take(heap_class(cls).size);
  c.limit[cls] += 1;
  ++c.overruns;
}

}  // namespace mm
