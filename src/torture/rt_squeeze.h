// The reservation part of the combined torture: reservers take dense and
// sparse reservations (some may not wait, others wait up to 10 ms) and
// allocate what they were granted, while a squeezer lowers the heap's
// maximum below what is in use and raises it back, and an evictable cache
// of the torture's own gives memory back when a reserve asks. Checked:
// every reserve ends granted, out of memory or timed out (never
// cancelled or anything else, never a panic), and a granted reservation's
// allocations never fail; set_max_heap accepts every squeeze. Kernel
// only, thread context.
#pragma once
#include "src/arch/spinlock.h"
#include "src/base/atomic.h"
#include "src/base/result.h"
#include "src/base/types.h"
#include "src/rt/evictable.h"
#include "src/torture/gated_workers.h"

namespace torture {

class RtSqueeze : public GatedWorkers {
 public:
  RtSqueeze() : GatedWorkers("rt_squeeze", workers_, kWorkers) {}

  static constexpr uint32_t kReservers = 2;
  static constexpr uint32_t kWorkers = kReservers + 1;  // and the squeezer
  static constexpr uint32_t kCacheMax = 128;

  /// Registers the cache and spawns the workers; they pass `gate` before
  /// each operation (the squeezer only with the maximum restored).
  base::Status start(Gate* gate);
  /// Stops and joins them, restores the maximum, empties and unregisters
  /// the cache.
  void stop();

  uint64_t granted() const { return granted_.load(base::MemoryOrder::kRelaxed); }
  uint64_t out_of_memory() const { return oom_.load(base::MemoryOrder::kRelaxed); }
  uint64_t timed_out() const { return timeouts_.load(base::MemoryOrder::kRelaxed); }
  uint64_t squeezes() const { return squeezes_.load(base::MemoryOrder::kRelaxed); }
  uint64_t evictions() const { return cache_.evictions; }

  // The workers' side (rt_squeeze.cc).
  int64_t max_bytes = 0;  // the maximum to restore
  base::Atomic<uint64_t> granted_{0}, oom_{0}, timeouts_{0}, squeezes_{0};
  // The cache: 256-byte blocks kept for nobody, freed on demand.
  arch::SpinLock cache_lock;
  void* cache[kCacheMax] GUARDED_BY(cache_lock) = {};
  uint32_t cached GUARDED_BY(cache_lock) = 0;
  void put_in_cache(void* p);
  uint64_t shrink(uint64_t bytes);

 private:
  Worker workers_[kWorkers];
  rt::Evictable cache_{"torture.blocks", nullptr, nullptr};
};

}  // namespace torture
