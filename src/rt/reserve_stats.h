// rt's reservation statistics and the accounting invariant: per CPU
// counters written by their owner, global counters of the slow paths, and
// a snapshot that adds them up with the heap's own. Kernel only.
#pragma once

#include "src/base/types.h"
#include "src/rt/objs.h"

namespace rt {

/// One CPU's credit and the counters of its fast paths (written by the
/// owner with interrupts off, read racily by statistics).
struct alignas(64) CpuCredit {
  Objs avail{};
  uint64_t reserves = 0;  ///< Granted here.
  uint64_t robs = 0;      ///< Reserves that took from the budget.
  uint64_t flushes = 0;   ///< Releases (or drains) that gave credit back.
};

/// Counters of the slow paths (relaxed atomic adds).
struct GlobalResStats {
  uint64_t waits = 0;    ///< Reserves that waited.
  uint64_t wait_ns = 0;  ///< Total time they waited.
  uint64_t timeouts = 0;
  uint64_t out_of_memory = 0;  ///< Failed without waiting (timeout 0).
  uint64_t cancels = 0;        ///< Reserves that returned kCancelled.
  uint64_t cancel_requests = 0;
  uint64_t drains = 0;              ///< Times every CPU was asked for its credit.
  uint64_t drain_ns = 0;            ///< Their total time, and the longest one's:
  uint64_t drain_max_ns = 0;        ///< each visits every CPU, slow on a loaded host.
  uint64_t evicted_bytes = 0;       ///< Given back by evictable caches.
  uint64_t parked_reclaims = 0;     ///< Parkings taken from their threads (drains).
  uint64_t parked_hits_exited = 0;  ///< Parked reserves of threads that exited.
};

namespace internal {
const CpuCredit& cpu_credit(uint32_t cpu);
const GlobalResStats& global_stats();
}  // namespace internal

/// The accounting at one moment, per class and in bytes. Reads CPUs' and
/// threads' counters one after another: exact when the heap and rt are
/// quiescent, approximately simultaneous otherwise.
struct ResSnapshot {
  int64_t max_bytes;             ///< The heap's maximum (set_max_heap).
  int64_t budget_bytes;          ///< What nobody holds (may be negative).
  Objs cpu_credit;               ///< rt's credit on all CPUs.
  Objs reserved;                 ///< Unused credit of reservations in progress.
  Objs parked;                   ///< Credit parked in threads between reservations.
  uint64_t parked_threads;       ///< Threads holding a parking.
  Objs outside;                  ///< Net objects allocated outside reservations.
  int64_t outside_credit_bytes;  ///< Credit the CPUs' own accounts hold.
  Objs live;                     ///< Live small objects (the heap's counters).
  uint64_t live_bytes;           ///< Small, large and huge.
  uint64_t reservations;         ///< Threads holding one.
  uint64_t reserves, robs, flushes;
  uint64_t parked_reserves;  ///< Of `reserves`, granted from parked credit.
  GlobalResStats global;
  uint64_t overruns;  ///< mm's count of allocations past reservations.

  /// budget + credit + reserved + parked + outside credit + live, in bytes: equals
  /// max_bytes when the accounting is exact.
  int64_t accounted_bytes() const;
};

/// Takes a snapshot. Thread context (walks the thread list).
ResSnapshot res_snapshot();

}  // namespace rt
