// Credit parked in a thread between reservations: the protocol on the one
// word (sched::Thread::reserve_parked) that says whose it is. Pure logic over
// base::Atomic, host-tested; rt's use is in reserve.h and reserve.cc.
//
// A thread that releases an untouched sparse reservation keeps its credit:
// its account still holds the site's limits, and the word names the site.
// Its next reservation of that site takes the word back and only installs
// the account. Anyone else (a waiter's drain, set_max_heap, cancel) may
// reclaim the credit while it is parked; the thread may be running, so the
// word changes hands only by atomic operations, in three states:
//
//   0               nothing parked; the account is all zero
//   site            parked: the account's limits are site's sparse counts,
//                   and that credit belongs to the word (counted as parked)
//   site | kGone    reclaimed: the credit went back to the budget, but the
//                   account still holds site's limits, which only the
//                   owner may clear (it owns the account)
//
// Transitions: the owner takes the word with an exchange to 0 (whatever it
// held is then the owner's to settle) and parks with a store (the word is
// 0 then, and nobody else writes a 0 word); a reclaimer moves site to
// site | kGone with a compare-exchange, so exactly one party — the owner
// or one reclaimer — ever gets a parking's credit. Any context but NMI;
// lock-free.
#pragma once

#include "src/base/atomic.h"
#include "src/base/types.h"

namespace rt {

/// The parking word of one thread, for sites of type Site (aligned to at
/// least 2, so the low bit is free for kGone).
template <typename Site>
class ParkedCredit {
 public:
  static_assert(alignof(Site) >= 2, "the low bit of a Site* marks a reclaimed parking");
  static constexpr uintptr_t kGone = 1;

  explicit ParkedCredit(base::Atomic<uintptr_t>& word) : word_(word) {}

  /// What a take returned: the site whose limits the account holds (null:
  /// none), and whether its credit is still there (the taker's now) or was
  /// reclaimed (only the limits are left to clear).
  struct Taken {
    Site* site;
    bool credit;
  };
  static Taken decode(uintptr_t word) {
    return {reinterpret_cast<Site*>(word & ~kGone), word != 0 && (word & kGone) == 0};
  }

  /// Owner: takes the word, leaving 0. Acquire: pairs with the release of
  /// park (the same thread, perhaps on another CPU, as the account is).
  uintptr_t take() { return word_.exchange(0, base::MemoryOrder::kAcquire); }

  /// Owner, with the word 0 (taken, or never parked): parks `site`'s
  /// credit. A store, not an exchange: reclaimers write only a parked word.
  void park(Site* site) { word_.store(reinterpret_cast<uintptr_t>(site), base::MemoryOrder::kRelease); }

  /// Whether the word is 0, so that the account is clean (owner only: a
  /// nonzero word may change under others, a 0 one only by the owner).
  bool empty() const { return word_.load(base::MemoryOrder::kRelaxed) == 0; }

  /// Anyone: takes a parking's credit away from its thread. Returns the
  /// site whose credit the caller now holds and must give back, or null
  /// when nothing was parked (or someone else got it first).
  Site* reclaim() {
    uintptr_t w = word_.load(base::MemoryOrder::kAcquire);
    while (w != 0 && (w & kGone) == 0) {
      if (word_.compare_exchange(w, w | kGone, base::MemoryOrder::kAcqRel, base::MemoryOrder::kAcquire))
        return reinterpret_cast<Site*>(w);
    }
    return nullptr;
  }

  /// Anyone: the site whose credit is parked now, or null (for statistics:
  /// it may be taken or reclaimed a moment later).
  Site* parked() const {
    const Taken t = decode(word_.load(base::MemoryOrder::kAcquire));
    return t.credit ? t.site : nullptr;
  }

 private:
  base::Atomic<uintptr_t>& word_;
};

}  // namespace rt
